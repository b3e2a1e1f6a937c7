import XCTest
@testable import Nets

/// State dicts of a hand-built module: key names from the structure, dtypes as PyTorch
/// stores them, exact save/load round trips, and the strict/non-strict reports.
final class StateDictTests: XCTestCase {
    /// A conv-like block: weight and bias.
    final class Block: Module {
        let weight: Parameter
        let bias: Parameter
        init(_ out: Int, _ inp: Int) {
            weight = Parameter(Tensor(shape: [out, inp, 1, 1]))
            bias = Parameter(Tensor(shape: [out]))
        }
    }

    /// BatchNorm's state: two weights, two buffers and the int64 counter (a 0-d tensor, as in PyTorch).
    final class Norm: Module {
        let weight = Parameter(Tensor(shape: [3]))
        let bias = Parameter(Tensor(shape: [3]))
        let running_mean = Parameter(Tensor(shape: [3]), kind: .buffer)
        let running_var = Parameter(Tensor(shape: [3]), kind: .buffer)
        let num_batches_tracked = Parameter(Tensor(shape: []), kind: .counter)
    }

    final class Net: Module {
        let stem = Block(3, 2)
        let layers: [Module] = [Block(3, 3), Block(2, 3)]
        let norm = Norm()
        let scale = Parameter(Tensor(shape: [1]))
        /// An activation kept for backward: never part of the state dict.
        var cached: Tensor? = Tensor.activation(1, 3, 2, 2)
    }

    static let keys = ["scale", "stem.weight", "stem.bias", "layers.0.weight", "layers.0.bias", "layers.1.weight", "layers.1.bias",
                       "norm.weight", "norm.bias", "norm.running_mean", "norm.running_var", "norm.num_batches_tracked"]

    var folder: String!

    override func setUpWithError() throws {
        folder = NSTemporaryDirectory() + "statedict-tests-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: folder)
    }

    /// A net whose every element is distinct (seeded), with a counter of 12345.
    func filledNet(seed: UInt64) -> Net {
        let net = Net()
        var rng = SeededRandom(seed: seed)
        for (_, p) in net.namedParameters() { p.value.fillUniform(-1, 1, &rng) }
        net.norm.num_batches_tracked.value.data[0] = 12345
        return net
    }

    func values(_ net: Module) -> [String: [Float]] {
        Dictionary(uniqueKeysWithValues: net.stateDict().map { ($0.0, $0.1.array) })
    }

    func testStateDictKeysFollowStructureAndCountersAreI64() throws {
        let net = filledNet(seed: 1)
        XCTAssertEqual(net.stateDict().map(\.0), Self.keys)
        XCTAssertTrue(net.stateDict()[0].1 === net.scale.value, "state dict shares storage")
        let path = folder + "/net.safetensors"
        try net.save(to: path, metadata: ["epoch": "3"])
        let header = try SafeTensors.readHeader(path)
        XCTAssertEqual(Set(header.names), Set(Self.keys), "no activation saved")
        XCTAssertEqual(header.metadata, ["epoch": "3"])
        for key in Self.keys {
            XCTAssertEqual(header[key]?.dtype, key == "norm.num_batches_tracked" ? .i64 : .f32, key)
        }
        XCTAssertEqual(header["norm.num_batches_tracked"]?.shape, [])
    }

    func testSaveThenStrictLoadRestoresEveryValueExactly() throws {
        let source = filledNet(seed: 2)
        let path = folder + "/net.safetensors"
        try source.save(to: path)
        let target = Net()
        let report = try target.load(from: path)
        XCTAssertTrue(report.isComplete)
        XCTAssertEqual(Set(report.loaded), Set(Self.keys))
        XCTAssertEqual(values(target), values(source))
        XCTAssertEqual(target.norm.num_batches_tracked.value.data[0], 12345)
        XCTAssertEqual(report.description, "\(path): loaded 12 of 12 model tensors")
    }

    /// A file with `stem.bias` missing, `head.weight` and `head.bias` unexpected and `layers.1.weight` of the wrong shape.
    func writeMismatchedFile() throws -> String {
        let source = filledNet(seed: 3)
        var tensors = source.stateDict().filter { $0.0 != "stem.bias" && $0.0 != "layers.1.weight" }
        tensors.append(("layers.1.weight", Tensor(shape: [3, 3, 1, 1], repeating: 7)))
        tensors.append(("head.weight", Tensor(shape: [2], repeating: 1)))
        tensors.append(("head.bias", Tensor(shape: [2], repeating: 1)))
        let path = folder + "/best.safetensors"
        try SafeTensors.write(tensors, dtypes: ["norm.num_batches_tracked": .i64], to: path)
        return path
    }

    func testStrictLoadListsEveryProblemAndChangesNothing() throws {
        let path = try writeMismatchedFile()
        let target = Net()
        XCTAssertThrowsError(try target.load(from: path)) { error in
            XCTAssertEqual("\(error)", "\(path): missing keys: stem.bias; unexpected keys: head.bias, head.weight; "
                           + "shape mismatch: layers.1.weight expected [2, 3, 1, 1], file has [3, 3, 1, 1]")
            XCTAssertEqual((error as? StateDict.LoadError)?.report.loaded.count, 10)
        }
        XCTAssertTrue(values(target).values.allSatisfy { $0.allSatisfy { $0 == 0 } }, "strict failure loads nothing")
    }

    func testNonStrictLoadFillsMatchesAndReportsTheRest() throws {
        let path = try writeMismatchedFile()
        let source = filledNet(seed: 3)
        let target = Net()
        let report = try target.load(from: path, strict: false)
        XCTAssertFalse(report.isComplete)
        XCTAssertEqual(report.missing, ["stem.bias"])
        XCTAssertEqual(report.unexpected, ["head.bias", "head.weight"])
        XCTAssertEqual(report.mismatched, [.init(key: "layers.1.weight", fileKey: "layers.1.weight", expected: [2, 3, 1, 1], found: [3, 3, 1, 1])])
        XCTAssertEqual(Set(report.loaded), Set(Self.keys).subtracting(["stem.bias", "layers.1.weight"]))
        let loaded = values(target), expected = values(source)
        for key in report.loaded { XCTAssertEqual(loaded[key], expected[key], key) }
        XCTAssertEqual(loaded["stem.bias"], [0, 0, 0], "missing key left as it was")
        XCTAssertEqual(loaded["layers.1.weight"], Array(repeating: 0, count: 6), "mis-shaped key left as it was")
        XCTAssertEqual(report.description, """
            \(path): loaded 10 of 12 model tensors
              missing keys (1): stem.bias
              unexpected keys (2): head.bias, head.weight
              shape mismatch (1): layers.1.weight expected [2, 3, 1, 1], file has [3, 3, 1, 1]
            """)
    }

    func testKeyMapStripsDataParallelPrefix() throws {
        let source = filledNet(seed: 4)
        let path = folder + "/dp.safetensors"
        try SafeTensors.write(source.stateDict().map { ("module." + $0.0, $0.1) }, to: path)
        let target = Net()
        XCTAssertThrowsError(try target.load(from: path), "prefixed keys do not match as they are")
        XCTAssertTrue(try target.load(from: path, keys: .stripping("module.")).isComplete)
        XCTAssertEqual(values(target), values(source))
    }

    /// Loading a backbone-only file (like torchvision weights) under a model prefix, and taking
    /// only one part of a full checkpoint.
    func testKeyMapSelectsAndRenamesSubtrees() throws {
        let source = filledNet(seed: 5)
        let pretrained = folder + "/pretrained.safetensors"
        try SafeTensors.write([("weight", source.stem.weight.value), ("bias", source.stem.bias.value),
                               ("fc.weight", Tensor(shape: [10, 3]))], to: pretrained)
        let target = Net()
        let report = try target.load(from: pretrained, strict: false, keys: StateDict.KeyMap(modelPrefix: "stem."))
        XCTAssertEqual(report.loaded, ["stem.bias", "stem.weight"])
        XCTAssertEqual(report.missing, [], "only keys under stem. are expected")
        XCTAssertEqual(report.unexpected, ["fc.weight"])
        XCTAssertEqual(target.stem.weight.value.array, source.stem.weight.value.array)
        XCTAssertEqual(target.layers[0].namedParameters()[0].1.value.array, Array(repeating: 0, count: 9))

        let full = folder + "/full.safetensors"
        try source.save(to: full)
        let partial = Net()
        let only = try partial.load(from: full, keys: StateDict.KeyMap(filePrefix: "layers.", modelPrefix: "layers."))
        XCTAssertEqual(Set(only.loaded), ["layers.0.weight", "layers.0.bias", "layers.1.weight", "layers.1.bias"])
        XCTAssertEqual(only.skipped, 8)
        XCTAssertTrue(only.isComplete)
        XCTAssertEqual(partial.norm.running_var.value.array, [0, 0, 0])
        XCTAssertTrue(only.description.hasSuffix("\n  skipped 8 file tensors outside the key prefix"), only.description)
        // Loading into the submodule itself gives the same result, with its own (unprefixed) keys.
        XCTAssertEqual(try Net().stem.load(from: full, keys: .stripping("stem.")).loaded, ["bias", "weight"])
    }

    func testFileDTypesAreConvertedOnLoad() throws {
        let path = folder + "/half.safetensors"
        try SafeTensors.write([("scale", Tensor(shape: [1], values: [0.1]))], dtypes: ["scale": .f16], to: path)
        let net = Net()
        let report = try net.load(from: path, strict: false, keys: StateDict.KeyMap(filePrefix: "scale", modelPrefix: "scale"))
        XCTAssertEqual(report.loaded, ["scale"])
        XCTAssertEqual(net.scale.value.data[0], 0x1.998p-4, "F16(0.1), widened exactly")
    }

    func testLongListsAreCutInDescriptionAndError() throws {
        let path = folder + "/many.safetensors"
        try SafeTensors.write((0..<25).map { ("extra.\($0)", Tensor(shape: [1])) }, to: path)
        let report = try Net().load(from: path, strict: false)
        XCTAssertEqual(report.unexpected.count, 25)
        XCTAssertTrue(report.description.contains("unexpected keys (25): extra.0, extra.1,"), report.description)
        XCTAssertTrue(report.description.contains(", … (15 more)"), report.description)
        XCTAssertThrowsError(try Net().load(from: path)) {
            XCTAssertTrue("\($0)".contains(", … (5 more)"), "\($0)")
            XCTAssertFalse("\($0)".contains("\n"))
        }
    }

    func testCorruptFileErrorComesFromTheReader() throws {
        let path = folder + "/junk.safetensors"
        try Data("not a checkpoint".utf8).write(to: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try Net().load(from: path)) {
            XCTAssertTrue($0 is SafeTensors.FileError)
            XCTAssertTrue("\($0)".hasPrefix("\(path): truncated: header length"), "\($0)")
        }
    }
}
