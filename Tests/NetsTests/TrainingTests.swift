import XCTest
@testable import Nets

/// End-to-end training of a small UNet on a batch where the answer is learnable:
/// foreground is a bright disc on a noisy background, so loss must fall and pixel
/// accuracy must rise well above the background fraction.
final class TrainingTests: XCTestCase {
    struct Batch {
        let images: Tensor
        let labels: LabelMap
    }

    func discBatch(n: Int = 4, size: Int = 32, seed: UInt64) -> Batch {
        var rng = SeededRandom(seed: seed)
        let x = Tensor.activation(n, 3, size, size)
        var labels = LabelMap(n: n, h: size, w: size)
        for b in 0..<n {
            let cy = rng.uniform(8, Float(size) - 8), cx = rng.uniform(8, Float(size) - 8), r = rng.uniform(4, 8)
            for y in 0..<size { for xx in 0..<size {
                let inside = (Float(y) - cy) * (Float(y) - cy) + (Float(xx) - cx) * (Float(xx) - cx) < r * r
                labels[b, y, xx] = inside ? 1 : 0
                for c in 0..<3 { x[b, c, y, xx] = (inside ? 0.6 : 0) + 0.3 * rng.normal() }
            } }
        }
        return Batch(images: x, labels: labels)
    }

    func pixelAccuracy(_ logits: Tensor, _ labels: LabelMap) -> Double {
        var correct = 0
        for b in 0..<logits.n { for y in 0..<logits.h { for x in 0..<logits.w {
            let predicted: Int32 = logits[b, 1, y, x] > logits[b, 0, y, x] ? 1 : 0
            if predicted == labels[b, y, x] { correct += 1 }
        } } }
        return Double(correct) / Double(labels.count)
    }

    /// Trains for `steps` and returns the loss of every step and the final train-mode accuracy.
    func train(_ model: UNet, _ batch: Batch, steps: Int) throws -> (losses: [Float], accuracy: Double) {
        let loss = SegmentationLoss([(1, CrossEntropyLoss(classWeights: [1, 2])), (1, DiceLoss())])
        let sgd = try SGD(model.namedParameters(), lr: 0.05, momentum: 0.9, weightDecay: 1e-4)
        var losses: [Float] = []
        var accuracy = 0.0
        for _ in 0..<steps {
            model.zeroGrad()
            let tape = Tape()
            let logits = tape.record { model(batch.images).out }
            let value = try loss(logits, batch.labels)
            losses.append(value.total)
            accuracy = pixelAccuracy(logits, batch.labels)
            tape.backward([(logits, value.gradient)])
            sgd.step()
        }
        return (losses, accuracy)
    }

    func testLossFallsAndAccuracyRises() throws {
        var rng = SeededRandom(seed: 3)
        let model = UNet(inChannels: 3, numClasses: 2, baseChannels: 8, bilinear: true, rng: &rng)
        let batch = discBatch(seed: 4)
        let (losses, accuracy) = try train(model, batch, steps: 40)
        let first = losses.prefix(3).reduce(0, +) / 3, last = losses.suffix(3).reduce(0, +) / 3
        XCTAssertLessThan(last, 0.5 * first, "losses \(losses)")
        // Background is ~85% of pixels: only a model that finds the discs passes 0.95.
        XCTAssertGreaterThan(accuracy, 0.95)
        model.setTraining(false)
        XCTAssertGreaterThan(pixelAccuracy(model(batch.images).out, batch.labels), 0.9, "eval mode")
    }

    func testSameSeedGivesIdenticalTraining() throws {
        func run() throws -> [Float] {
            var rng = SeededRandom(seed: 9)
            let model = UNet(inChannels: 3, numClasses: 2, baseChannels: 4, bilinear: false, rng: &rng)
            return try train(model, discBatch(n: 2, size: 24, seed: 10), steps: 5).losses
        }
        XCTAssertEqual(try run(), try run())
    }

    func testFrozenEncoderStaysBitwiseUnchanged() throws {
        var rng = SeededRandom(seed: 5)
        let model = UNet(inChannels: 3, numClasses: 2, baseChannels: 4, bilinear: true, rng: &rng)
        let frozenKeys = model.freeze(UNet.groups["encoder"]!)
        XCTAssertEqual(frozenKeys.count, model.namedParameters().filter {
            $0.1.kind == .weight && ["in_conv", "down1", "down2", "down3", "down4"].contains(String($0.0.split(separator: ".")[0]))
        }.count)
        let encoderBefore = model.namedParameters().filter { $0.0.hasPrefix("in_conv") || $0.0.hasPrefix("down") }
            .map { ($0.0, $0.1.value.array) }
        let decoderBefore = model.up1.conv.namedParameters().map { $0.1.value.array }
        let (losses, _) = try train(model, discBatch(n: 2, size: 32, seed: 6), steps: 8)
        XCTAssertLessThan(losses.last!, losses.first!)
        for (key, values) in encoderBefore {
            let now = model.namedParameters().first { $0.0 == key }!.1
            XCTAssertEqual(now.value.array, values, "\(key) changed")  // weights, BN affine and running stats
            XCTAssertNil(now.grad, "\(key) got a gradient")
        }
        XCTAssertNotEqual(model.up1.conv.namedParameters().map { $0.1.value.array }, decoderBefore)

        model.unfreezeAll()
        _ = try train(model, discBatch(n: 2, size: 32, seed: 6), steps: 1)
        XCTAssertNotEqual(model.inConv.namedParameters()[0].1.value.array, encoderBefore[0].1)
    }
}
