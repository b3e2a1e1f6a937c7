import XCTest
@testable import Nets

/// Checks a model against a fixture of tools/fixtures/segmentation_heads.py (or resnet_blocks.py):
/// state dict, eval and train logits (Dropout off), one cross-entropy step's gradients (the mean
/// over UNet++'s deep-supervision heads, plus the auxiliary head's loss ×0.5 for FCN/DeepLab
/// models) and BatchNorm statistics after it.
///
/// The expected values are float64 results; tolerances are a few times PyTorch's own float32
/// distance from them, which the script prints. Logits are compared absolutely (they are O(1)),
/// gradients relative to the largest gradient of the model (input gradient: to its own largest).
struct TorchFixture {
    var evalTolerance: Float = 2e-6
    var trainTolerance: Float = 2e-5
    var gradTolerance: Float = 3e-5
    /// For BatchNorm's running statistics after the step (absolute).
    var bufferTolerance: Float = 1e-5
    static let auxWeight: Float = 0.5

    static func path(_ name: String, _ ext: String) throws -> String {
        try XCTUnwrap(Bundle.module.path(forResource: name, ofType: ext, inDirectory: "Fixtures"), name)
    }

    static func maxAbs(_ a: Tensor, _ b: Tensor) -> Float {
        precondition(a.count == b.count, "\(a) vs \(b)")
        var m: Float = 0
        for i in 0..<a.count { m = max(m, abs(a.data[i] - b.data[i])) }
        return m
    }

    static func maxAbs(_ t: Tensor) -> Float { (0..<t.count).reduce(0) { max($0, abs(t.data[$1])) } }

    /// Compares a model's `key shape` list with a key list of tools/reference/resnet.py.
    static func assertKeys(_ model: Module, _ file: String, filePath: StaticString = #filePath, line: UInt = #line) throws {
        let text = try String(contentsOfFile: try path(file, "txt"), encoding: .utf8)
        let expected = text.split(separator: "\n").map { l -> String in
            let parts = l.split(separator: " ")
            return "\(parts[0]) \(parts[1] == "scalar" ? "" : parts[1])"
        }
        let actual = model.namedParameters().map { key, p in "\(key) \(p.value.shape.map(String.init).joined(separator: ","))" }
        XCTAssertEqual(actual, expected, file, file: filePath, line: line)
    }

    static func dropoutOff(_ model: Module) {
        for (_, m) in model.namedModules() where m is Dropout { m.setTraining(false) }
    }

    func check(_ name: String, _ model: any SegmentationModel, file: StaticString = #filePath, line: UInt = #line) throws {
        try check(name, model, forward: { model($0) }, file: file, line: line)
    }

    /// A block that is not a whole model (a ResNet stage, a head): its output is the logits.
    func check(_ name: String, _ layer: any Layer, file: StaticString = #filePath, line: UInt = #line) throws {
        try check(name, layer, forward: { SegmentationOutput(out: layer($0)) }, file: file, line: line)
    }

    private func check(_ name: String, _ model: Module, forward: (Tensor) -> SegmentationOutput,
                       file: StaticString, line: UInt) throws {
        let path = try TorchFixture.path(name, "safetensors")
        let tensors = try SafeTensors.read(path)
        func get(_ key: String) throws -> Tensor { try XCTUnwrap(tensors[key], "\(name): no \(key)") }
        let report = try model.load(from: path, strict: false)
        XCTAssertTrue(report.missing.isEmpty && report.mismatched.isEmpty, "\(report)", file: file, line: line)
        let input = try get("input").converted(to: .nhwc)

        model.setTraining(false)
        let eval = forward(input).out.converted(to: .plain)
        XCTAssertLessThan(TorchFixture.maxAbs(eval, try get("output_eval")), evalTolerance, "\(name) eval logits",
                          file: file, line: line)

        model.setTraining(true)
        TorchFixture.dropoutOff(model)
        let tape = Tape()
        tape.watch(input)
        let output = tape.record { forward(input) }
        let logits = output.out
        XCTAssertLessThan(TorchFixture.maxAbs(logits.converted(to: .plain), try get("output_train")), trainTolerance,
                          "\(name) train logits", file: file, line: line)
        let targetTensor = try get("target")
        let target = LabelMap(n: logits.n, h: logits.h, w: logits.w, values: targetTensor.array.map { Int32($0) })
        var (loss, dlogits) = try CrossEntropyLoss()(logits, target)
        var seeds = [(output: logits, gradient: dlogits)]
        if !output.deepSupervision.isEmpty {
            // UNet++: the mean of every head's loss.
            for (k, head) in output.deepSupervision.enumerated() {
                XCTAssertLessThan(TorchFixture.maxAbs(head.converted(to: .plain), try get("deep_train.\(k + 1)")),
                                  trainTolerance, "\(name) head \(k + 1) logits", file: file, line: line)
                let (headLoss, dhead) = try CrossEntropyLoss()(head, target)
                loss += headLoss
                seeds.append((head, dhead))
            }
            let scale = 1 / Float(seeds.count)
            loss *= scale
            seeds.forEach { $0.gradient.scale(scale) }
        }
        if let aux = output.aux {
            XCTAssertLessThan(TorchFixture.maxAbs(aux.converted(to: .plain), try get("aux_train")), trainTolerance,
                              "\(name) aux logits", file: file, line: line)
            let (auxLoss, daux) = try CrossEntropyLoss()(aux, target)
            loss += TorchFixture.auxWeight * auxLoss
            daux.scale(TorchFixture.auxWeight)
            seeds.append((aux, daux))
        } else {
            XCTAssertNil(tensors["aux_train"], "\(name): the model ran no auxiliary head", file: file, line: line)
        }
        tape.backward(seeds)
        let dinput = try XCTUnwrap(tape.gradient(of: input), "\(name): no input gradient")
        XCTAssertEqual(loss, try get("loss").data[0], accuracy: 1e-5, "\(name) loss", file: file, line: line)
        let expectedInputGrad = try get("grad.input")
        XCTAssertLessThan(TorchFixture.maxAbs(dinput.converted(to: .plain), expectedInputGrad),
                          gradTolerance * TorchFixture.maxAbs(expectedInputGrad), "\(name) input grad",
                          file: file, line: line)

        var largest: Float = 0
        for (key, p) in model.namedParameters() where p.kind == .weight {
            largest = max(largest, TorchFixture.maxAbs(try get("grad." + key)))
        }
        for (key, p) in model.namedParameters() {
            if p.kind == .weight {
                let grad = try XCTUnwrap(p.grad, "\(name): no gradient for \(key)", file: file, line: line)
                XCTAssertLessThan(TorchFixture.maxAbs(grad, try get("grad." + key)), gradTolerance * largest,
                                  "\(name) \(key)", file: file, line: line)
            } else {
                XCTAssertLessThan(TorchFixture.maxAbs(p.value, try get("after_train." + key)), bufferTolerance,
                                  "\(name) \(key)", file: file, line: line)
            }
        }
    }
}
