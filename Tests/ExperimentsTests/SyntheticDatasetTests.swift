import XCTest
import Nets
@testable import Experiments

final class SyntheticDatasetTests: XCTestCase {
    func testLabelsAreIgnoreOutsideFieldOfView() throws {
        let gen = try SyntheticFundus(size: 64, seed: 11)
        let (train, val) = try SyntheticDataset.split(gen, trainCount: 3, valCount: 2)
        XCTAssertEqual([train.count, val.count], [3, 2])
        for (dataset, offset) in [(train, 0), (val, 3)] {
            for i in 0..<dataset.count {
                let s = try dataset.sample(i), g = gen.sample(offset + i)
                XCTAssertEqual([s.height, s.width, s.channels], [64, 64, 3])
                XCTAssertEqual(s.name, SyntheticDataset.name(offset + i))
                XCTAssertEqual(s.image, g.image.map { Float($0) / 255 })
                var counts = [0, 0, 0]
                for p in 0..<64 * 64 {
                    if g.fov[p] {
                        XCTAssertEqual(s.label[p], Int32(g.label[p]))
                        counts[Int(s.label[p])] += 1
                    } else {
                        XCTAssertEqual(s.label[p], 255)
                        counts[2] += 1
                    }
                }
                XCTAssertTrue(counts.allSatisfy { $0 > 0 }, "vessel, background and ignore all present: \(counts)")
            }
        }
        XCTAssertEqual(SyntheticDataset.name(7), "synthetic_0007")
        XCTAssertThrowsError(try SyntheticDataset.split(gen, trainCount: 0, valCount: 2))
    }

    func testSyntheticTrainsThroughTheLoader() throws {
        let gen = try SyntheticFundus(size: 64, seed: 2)
        let (train, val) = try SyntheticDataset.split(gen, trainCount: 5, valCount: 2)
        let crop = ImageSize(height: 48, width: 48)
        let loader = try DataLoader(dataset: train, transform: .train(TrainTransform(scaleRange: 0.75...1.25, crop: crop,
                                    hflip: 0.5, vflip: 0.5, mean: [0.5], std: [0.25])), seed: 1, batchSize: 2,
                                    shuffle: true, dropLast: true, cache: true)
        let epoch = loader.epoch(0)
        var batches = 0
        while let b = try epoch.next() {
            XCTAssertEqual(b.images.shape, [2, 3, 48, 48])
            XCTAssertEqual([b.labels.n, b.labels.h, b.labels.w], [2, 48, 48])
            XCTAssertTrue(b.labels.values.allSatisfy { $0 == 0 || $0 == 1 || $0 == 255 })
            batches += 1
        }
        XCTAssertEqual(batches, 2)
        let evalLoader = try DataLoader(dataset: val, transform: .eval(EvalTransform(mean: [0.5], std: [0.25])), seed: 1,
                                        batchSize: 1, shuffle: false)
        let b = try XCTUnwrap(evalLoader.epoch(0).next())
        XCTAssertEqual(b.images.shape, [1, 3, 64, 64])
        XCTAssertEqual(b.names, ["synthetic_0005"])
    }
}
