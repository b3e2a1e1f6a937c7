import XCTest
@testable import Nets

/// The safetensors reader and writer, checked against files written by the reference
/// (Python/Rust) implementation, exact round trips, hand-made broken files and a
/// truncation/corruption sweep. Values are compared bit for bit: nothing here is
/// approximate, every conversion is a defined rounding.
final class SafeTensorsTests: XCTestCase {
    var folder: String!

    override func setUpWithError() throws {
        folder = NSTemporaryDirectory() + "safetensors-tests-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: folder)
    }

    func fixturePath() throws -> String {
        try XCTUnwrap(Bundle.module.path(forResource: "python_written", ofType: "safetensors", inDirectory: "Fixtures"))
    }

    func assertBits(_ t: Tensor?, _ expected: [Float], _ name: String, file: StaticString = #filePath, line: UInt = #line) {
        guard let t else { return XCTFail("\(name) missing", file: file, line: line) }
        XCTAssertEqual(t.array.map(\.bitPattern), expected.map(\.bitPattern), "\(name): \(t.array) vs \(expected)", file: file, line: line)
    }

    // MARK: Against the reference implementation

    /// Values from tools/fixtures/safetensors_io.py; the rounded ones are what PyTorch printed
    /// (float.hex), e.g. F16(0.1) = 0x1.998p-4 and BF16(1e10) = 0x1.2ap+33.
    func testReadsPythonWrittenFileExactly() throws {
        let file = try SafeTensors.readFile(fixturePath())
        XCTAssertEqual(file.metadata, ["format": "pt", "epoch": "7"])
        XCTAssertEqual(file.names, ["bn.num_batches_tracked", "ids", "conv.weight", "empty", "f32", "bf16", "f16"])
        XCTAssertEqual(file.dtype(of: "f32"), .f32)
        XCTAssertEqual(file.dtype(of: "f16"), .f16)
        XCTAssertEqual(file.dtype(of: "bf16"), .bf16)
        XCTAssertEqual(file.dtype(of: "ids"), .i64)
        XCTAssertEqual(file.dtype(of: "bn.num_batches_tracked"), .i64)

        XCTAssertEqual(file["f32"]?.shape, [2, 3])
        assertBits(file["f32"], [-0.0, Float(bitPattern: 1), .greatestFiniteMagnitude, -.infinity, .infinity, 0x1.921fb6p+1], "f32")
        assertBits(file["f16"], [0.5, -1.25, 65504, 0x1p-24, 0x1.998p-4, .infinity], "f16")
        XCTAssertEqual(file["bf16"]?.shape, [3, 2])
        assertBits(file["bf16"], [1, -2.5, 0x1.9ap-4, 0x1.2ap+33, 1, -0.0], "bf16")
        XCTAssertEqual(file["bn.num_batches_tracked"]?.shape, [])
        assertBits(file["bn.num_batches_tracked"], [12345], "counter")
        assertBits(file["ids"], [-7, 0, 16_777_216], "ids")
        XCTAssertEqual(file["empty"]?.shape, [0, 4])
        XCTAssertEqual(file["conv.weight"]?.shape, [2, 1, 2, 2])
        assertBits(file["conv.weight"], (0..<8).map { Float($0) * 0.25 - 1 }, "conv.weight")
        XCTAssertEqual(try SafeTensors.read(fixturePath()).count, 7)
    }

    /// Given the same tensors, dtypes and metadata, our writer must lay out exactly the bytes
    /// the reference writer did. The header is compared as JSON because the reference writes
    /// metadata keys in hash-map order.
    func testWriterMatchesReferenceWriter() throws {
        let reference = try Data(contentsOf: URL(fileURLWithPath: fixturePath()))
        let file = try SafeTensors.readFile(fixturePath())
        let path = folder + "/swift.safetensors"
        // Passed in a different order than the file's: the writer sorts like the reference.
        let names = file.names.reversed()
        try SafeTensors.write(names.map { ($0, file[$0]!) },
                              dtypes: Dictionary(uniqueKeysWithValues: names.map { ($0, file.dtype(of: $0)!) }),
                              metadata: file.metadata, to: path)
        let ours = try Data(contentsOf: URL(fileURLWithPath: path))
        XCTAssertEqual(ours.count, reference.count)
        let headerEnd = 8 + Int(ours.prefix(8).reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) })
        XCTAssertEqual(ours.prefix(8), reference.prefix(8), "header lengths differ")
        XCTAssertEqual(ours.suffix(from: headerEnd), reference.suffix(from: headerEnd), "data sections differ")
        let a = try JSONSerialization.jsonObject(with: ours.subdata(in: 8..<headerEnd)) as? NSDictionary
        let b = try JSONSerialization.jsonObject(with: reference.subdata(in: 8..<headerEnd)) as? NSDictionary
        XCTAssertEqual(a, b)
    }

    // MARK: Writer

    func testRoundTripEveryDType() throws {
        let values: [SafeTensors.DType: [Float]] = [
            .f32: [-0.0, 0x1p-140, 3.25, -.infinity, 0x1.fffffep+127],
            .f64: [-0.0, 0x1p-140, 3.25, -.infinity, 0x1.fffffep+127],
            .f16: [-0.0, 0x1p-24, 3.25, -.infinity, 65504],
            .bf16: [-0.0, 0x1p-133, 3.25, -.infinity, 0x1.fep+127],
            .i64: [-9_007_199_254_740_992, -1, 0, 5, 16_777_216],
            .u64: [0, 1, 255, 65536, 0x1p63],
            .i32: [-2_147_483_648, -1, 0, 5, 16_777_216],
            .u32: [0, 1, 255, 65536, 0x1.fffffep31],
            .i16: [-32768, -1, 0, 5, 32767],
            .u16: [0, 1, 255, 256, 65535],
            .i8: [-128, -1, 0, 5, 127],
            .u8: [0, 1, 128, 254, 255],
            .bool: [0, 1, 1, 0, 0],
        ]
        XCTAssertEqual(Set(values.keys), Set(SafeTensors.DType.allCases))
        let names = SafeTensors.DType.allCases.map(\.rawValue)
        let tensors = SafeTensors.DType.allCases.map { ($0.rawValue, Tensor(shape: [5], values: values[$0]!)) }
        let path = folder + "/all.safetensors"
        try SafeTensors.write(tensors, dtypes: Dictionary(uniqueKeysWithValues: SafeTensors.DType.allCases.map { ($0.rawValue, $0) }),
                              metadata: ["note": "quote \" backslash \\ newline \n tab \t bell \u{07} é"], to: path)
        let file = try SafeTensors.readFile(path)
        XCTAssertEqual(Set(file.names), Set(names))
        XCTAssertEqual(file.metadata["note"], "quote \" backslash \\ newline \n tab \t bell \u{07} é")
        for dtype in SafeTensors.DType.allCases {
            XCTAssertEqual(file.dtype(of: dtype.rawValue), dtype)
            assertBits(file[dtype.rawValue], values[dtype]!, dtype.rawValue)
            // Every tensor starts at a multiple of its element size, as the reference ensures.
            let info = try XCTUnwrap(file.header[dtype.rawValue])
            XCTAssertEqual((file.header.dataStart + info.dataOffsets.lowerBound) % dtype.size, 0, dtype.rawValue)
        }
        XCTAssertEqual(file.header.dataStart % 8, 0, "header is padded to 8 bytes")
    }

    /// Conversions follow PyTorch's `.to(dtype)`; the expected values are the fixture's,
    /// which PyTorch produced from the same inputs.
    func testWriterRoundsLikePyTorch() throws {
        let path = folder + "/rounding.safetensors"
        try SafeTensors.write([("h", Tensor(shape: [3], values: [0.1, 70000, .nan])),
                               ("b", Tensor(shape: [4], values: [0.1, 1e10, 1.00390625, .nan])),
                               ("i", Tensor(shape: [4], values: [2.7, -2.7, -0.5, 1e18])),
                               ("z", Tensor(shape: [3], values: [0.5, -0.0, .nan]))],
                              dtypes: ["h": .f16, "b": .bf16, "i": .i64, "z": .bool], to: path)
        let file = try SafeTensors.readFile(path)
        assertBits(file["h"].map { Tensor(shape: [2], values: Array($0.array.prefix(2))) }, [0x1.998p-4, .infinity], "F16")
        XCTAssertTrue(file["h"]!.data[2].isNaN)
        assertBits(file["b"].map { Tensor(shape: [3], values: Array($0.array.prefix(3))) }, [0x1.9ap-4, 0x1.2ap+33, 1], "BF16")
        XCTAssertEqual(file["b"]!.data[3].bitPattern, 0x7FC0_0000, "canonical BF16 NaN")
        assertBits(file["i"], [2, -2, 0, 1e18], "I64 truncates toward zero")
        assertBits(file["z"], [1, 0, 1], "BOOL is nonzero")
    }

    func testActivationIsWrittenInNCHWOrder() throws {
        let x = Tensor.activation(1, 2, 1, 3)
        for c in 0..<2 { for w in 0..<3 { x[0, c, 0, w] = Float(10 * c + w) } }
        let path = folder + "/act.safetensors"
        try SafeTensors.write([("x", x)], to: path)
        let back = try XCTUnwrap(SafeTensors.read(path)["x"])
        XCTAssertEqual(back.layout, .plain)
        XCTAssertEqual(back.array, [0, 1, 2, 10, 11, 12])
    }

    func testWriteReplacesAtomicallyAndCleansUpOnFailure() throws {
        let path = folder + "/ckpt.safetensors"
        try SafeTensors.write([("a", Tensor(shape: [2], values: [1, 2]))], to: path)
        try SafeTensors.write([("a", Tensor(shape: [2], values: [3, 4]))], to: path)
        XCTAssertEqual(try SafeTensors.read(path)["a"]?.array, [3, 4])

        // NaN has no I64 value: the write fails, the old checkpoint stays, no temporary is left.
        XCTAssertThrowsError(try SafeTensors.write([("a", Tensor(shape: [2], values: [5, .nan]))], dtypes: ["a": .i64], to: path)) {
            XCTAssertEqual("\($0)", "\(path): \"a\" element 1 = nan does not fit dtype I64")
        }
        XCTAssertEqual(try SafeTensors.read(path)["a"]?.array, [3, 4])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder), ["ckpt.safetensors"])

        XCTAssertThrowsError(try SafeTensors.write([("a", Tensor(shape: [1])), ("a", Tensor(shape: [1]))], to: path)) {
            XCTAssertEqual("\($0)", "\(path): tensor name \"a\" appears twice")
        }
        XCTAssertThrowsError(try SafeTensors.write([("a", Tensor(shape: [1]))], to: folder + "/no/such/dir/x.safetensors")) {
            XCTAssertTrue("\($0)".hasPrefix(self.folder + "/no/such/dir/x.safetensors: cannot create a temporary file"), "\($0)")
        }
    }

    func testReadHeaderOnly() throws {
        let header = try SafeTensors.readHeader(fixturePath())
        XCTAssertEqual(header.metadata["epoch"], "7")
        XCTAssertEqual(header["conv.weight"], SafeTensors.TensorInfo(name: "conv.weight", dtype: .f32, shape: [2, 1, 2, 2], dataOffsets: 32..<64))
        XCTAssertNil(header["nope"])
        let reader = try SafeTensors.Reader(fixturePath())
        XCTAssertEqual(try reader.read("ids").array, [-7, 0, 16_777_216])
        XCTAssertThrowsError(try reader.read("nope")) { XCTAssertTrue("\($0)".hasSuffix(": no tensor named \"nope\"")) }
    }

    // MARK: Broken files

    /// Writes `header` (padded as given) plus `dataBytes` zero bytes, with the true header length.
    func craft(_ header: String, dataBytes: Int = 0, lengthOverride: UInt64? = nil) throws -> String {
        var bytes = Data()
        let json = Array(header.utf8)
        withUnsafeBytes(of: (lengthOverride ?? UInt64(json.count)).littleEndian) { bytes.append(contentsOf: $0) }
        bytes.append(contentsOf: json)
        bytes.append(Data(count: dataBytes))
        let path = folder + "/crafted.safetensors"
        try bytes.write(to: URL(fileURLWithPath: path))
        return path
    }

    func assertReadFails(_ path: String, _ message: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try SafeTensors.readFile(path), file: file, line: line) { error in
            let text = "\(error)"
            XCTAssertEqual(text, "\(path): \(message)", file: file, line: line)
            XCTAssertFalse(text.contains("\n"), "one line", file: file, line: line)
        }
    }

    func testMalformedFilesGiveOneLineErrorsNamingFileAndProblem() throws {
        let t = #""t":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}"#
        let empty = folder + "/empty.safetensors"
        XCTAssertTrue(FileManager.default.createFile(atPath: empty, contents: Data()))
        assertReadFails(empty, "truncated: 0 bytes, too short for the 8-byte header length")
        assertReadFails(try craft("{\(t)}", lengthOverride: 1000), "truncated: header length 1000 runs past the end of the file (62 bytes)")
        assertReadFails(try craft("{\(t)}", lengthOverride: UInt64.max), "truncated: header length 18446744073709551615 runs past the end of the file (62 bytes)")
        assertReadFails(try craft("{\(t)", dataBytes: 8), "header is not valid JSON (53 bytes after the length prefix)")
        assertReadFails(try craft("[1, 2]"), "header is not a JSON object")
        assertReadFails(try craft(#"{"__metadata__":{"a":1}}"#), "__metadata__ value of \"a\" is not a string")
        assertReadFails(try craft(#"{"t":{"dtype":"F32","shape":[2]}}"#), "entry \"t\" is malformed (needs dtype, shape and data_offsets)")
        assertReadFails(try craft(#"{"t":{"dtype":"F8_E4M3","shape":[2],"data_offsets":[0,2]}}"#, dataBytes: 2),
                        "\"t\" has unsupported dtype \"F8_E4M3\"")
        assertReadFails(try craft(#"{"t":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}"#, dataBytes: 8), "\"t\" has an invalid shape [-2]")
        assertReadFails(try craft(#"{"t":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,8]}}"#, dataBytes: 8),
                        "\"t\" has a shape [4611686018427387904, 4] too large to address")
        assertReadFails(try craft(#"{"t":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}}"#, dataBytes: 8), "\"t\" has invalid data_offsets [8, 0]")
        assertReadFails(try craft(#"{"t":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#, dataBytes: 8),
                        "\"t\" data_offsets [0, 8] hold 8 bytes but shape [3] of F32 needs 12")
        assertReadFails(try craft("{\(t)}", dataBytes: 4), "\"t\" data_offsets [0, 8] run past the end of the file (data section of 4 bytes)")
        assertReadFails(try craft(#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#, dataBytes: 12),
                        "\"b\" data_offsets [4, 12] overlap \"a\" [0, 8]")
        assertReadFails(try craft(#"{"t":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#, dataBytes: 12),
                        "data section has a hole of 4 bytes before \"t\"")
        assertReadFails(try craft("{\(t)}", dataBytes: 9), "data section has 1 bytes after the last tensor")
        assertReadFails(folder + "/missing.safetensors", "cannot open: No such file or directory")
        assertReadFails(folder, "not a regular file")
        // A well-formed crafted file reads, so the failures above are about what they say.
        XCTAssertEqual(try SafeTensors.read(craft("{\(t)}  ", dataBytes: 8))["t"]?.array, [0, 0])
    }

    /// Truncates a valid file at every length and overwrites every byte with several values:
    /// reading must throw or succeed, never trap, and any truncation must throw (the format
    /// requires the data section to be covered exactly).
    func testTruncatedOrCorruptedFilesThrowOrReadButNeverTrap() throws {
        let valid = try Data(contentsOf: URL(fileURLWithPath: fixturePath()))
        let path = folder + "/fuzz.safetensors"
        for length in 0..<valid.count {
            try valid.prefix(length).write(to: URL(fileURLWithPath: path))
            XCTAssertThrowsError(try SafeTensors.readFile(path), "truncated to \(length)") {
                XCTAssertTrue("\($0)".hasPrefix(path + ": "))
            }
        }
        let headerEnd = 8 + Int(valid[0]) + Int(valid[1]) << 8
        var rng = SeededRandom(seed: 42)
        var (succeeded, failed) = (0, 0)
        for position in 0..<valid.count {
            // Arbitrary bytes, plus JSON structure characters that turn a header into other valid JSON
            // (bigger or negative numbers, cut arrays and objects).
            let structural: [UInt8] = position < headerEnd ? Array("9-]}\"".utf8) : []
            for replacement in [UInt8(0), 0xFF, valid[position] ^ 0x01, UInt8(truncatingIfNeeded: rng.next())] + structural {
                var bytes = valid
                bytes[position] = replacement
                try bytes.write(to: URL(fileURLWithPath: path))
                do {
                    let file = try SafeTensors.readFile(path)
                    XCTAssertEqual(file.tensors.count, file.header.tensors.count)
                    succeeded += 1
                } catch {
                    XCTAssertTrue("\(error)".hasPrefix(path + ": "))
                    XCTAssertFalse("\(error)".contains("\n"))
                    failed += 1
                }
            }
        }
        // Corrupting data bytes keeps the file valid, corrupting the header mostly does not.
        XCTAssertGreaterThan(succeeded, 0)
        XCTAssertGreaterThan(failed, 0)
    }
}
