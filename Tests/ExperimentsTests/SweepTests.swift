import XCTest
@testable import Experiments

/// Sweep expansion: grid order, zip groups, seeded random draws, path and per-run value
/// errors, run ids and the SHA-256 behind the run hash.
final class SweepTests: XCTestCase {
    func testGridIsTheCartesianProductWithTheLastKeyFastest() throws {
        let e = try loadConfig("sweep:\n  model.base_c: [32, 64]\n  model.upsample: [bilinear, transposed]\n")
        XCTAssertEqual(e.runs.map(\.id), ["base_c=32,upsample=bilinear", "base_c=32,upsample=transposed",
                                          "base_c=64,upsample=bilinear", "base_c=64,upsample=transposed"])
        XCTAssertEqual(e.runs.map(\.config.model.baseC), [32, 32, 64, 64])
        XCTAssertEqual(e.runs.map(\.config.model.upsample), [.bilinear, .transposed, .bilinear, .transposed])
        XCTAssertEqual(e.runs.map(\.index), [0, 1, 2, 3])
        XCTAssertEqual(Set(e.runs.map(\.hash)).count, 4)
        XCTAssertEqual(e.runs[1].swept, [
            SweptValue(path: "model.base_c", key: "base_c", text: "32", location: SourceLocation(file: "exp.yaml", line: 2, column: 18)),
            SweptValue(path: "model.upsample", key: "upsample", text: "transposed", location: SourceLocation(file: "exp.yaml", line: 3, column: 30)),
        ])
    }

    func testWholeSectionsAndListsCanBeSwept() throws {
        let e = try loadConfig("sweep:\n  optimizer: [{name: sgd}, {name: adam, lr: 1e-3}]\n  data.mean: [[0.5, 0.5, 0.5]]\n")
        XCTAssertEqual(e.runs.map(\.id), ["name=sgd,mean=0.5+0.5+0.5", "name=adam,lr=1e-3,mean=0.5+0.5+0.5"])
        XCTAssertEqual(e.runs.map(\.config.optimizer.name), [.sgd, .adam])
        XCTAssertEqual(e.runs[1].config.optimizer.lr, 1e-3)
        XCTAssertEqual(e.runs[0].config.data.mean, [0.5, 0.5, 0.5])
    }

    func testNoSweepIsOneRunNamedRun() throws {
        let e = try loadConfig("seed: 3\nsweep: {}\n")
        XCTAssertEqual(e.runs.map(\.id), ["run"])
        XCTAssertEqual(e.sweptPaths, [])
    }

    func testZipGroupsVaryTogether() throws {
        let text = """
        sweep:
          model.base_c: [16, 32]
          zip:
            - {optimizer.lr: [0.01, 0.001], schedule.epochs: [100, 200]}
        """
        let e = try loadConfig(text)
        XCTAssertEqual(e.runs.map(\.id), ["base_c=16,lr=0.01,epochs=100", "base_c=16,lr=0.001,epochs=200",
                                          "base_c=32,lr=0.01,epochs=100", "base_c=32,lr=0.001,epochs=200"])
        XCTAssertEqual(e.runs.map(\.config.optimizer.lr), [0.01, 0.001, 0.01, 0.001])
        XCTAssertEqual(e.runs.map(\.config.schedule.epochs), [100, 200, 100, 200])
        XCTAssertEqual(configErrors("sweep:\n  zip:\n    - {optimizer.lr: [0.01, 0.001], seed: [1, 2, 3]}\n"),
                       ["exp.yaml:3:43: sweep.zip: 'seed' has 3 values but 'optimizer.lr' has 2; a zip group's lists vary together and need equal lengths"])
    }

    let randomText = """
    sweep:
      seed: [0, 1]
      random:
        n: 20
        seed: 1
        params:
          optimizer.lr: {loguniform: [1.0e-4, 1.0e-1]}
          optimizer.momentum: {uniform: [0.8, 0.99]}
          schedule.batch_size: {int: [2, 8]}
          model.upsample: {choice: [bilinear, transposed]}
    """

    func testRandomDrawsAreReproducibleAndInRange() throws {
        let a = try loadConfig(randomText), b = try loadConfig(randomText)
        XCTAssertEqual(a.runs.count, 40)
        XCTAssertEqual(a.runs.map(\.id), b.runs.map(\.id))
        XCTAssertEqual(a.runs.map(\.hash), b.runs.map(\.hash))
        XCTAssertEqual(a.sweptPaths, ["seed", "optimizer.lr", "optimizer.momentum", "schedule.batch_size", "model.upsample"])
        // The same 20 draws for each grid point, draws varying fastest.
        XCTAssertEqual(a.runs[0..<20].map(\.config.optimizer.lr), a.runs[20..<40].map(\.config.optimizer.lr))
        XCTAssertEqual(a.runs[0..<20].map(\.config.seed), Array(repeating: 0, count: 20))
        let configs = a.runs.map(\.config)
        XCTAssertTrue(configs.allSatisfy { (1e-4...1e-1).contains($0.optimizer.lr) })
        XCTAssertTrue(configs.allSatisfy { (0.8...0.99).contains($0.optimizer.momentum) })
        XCTAssertTrue(configs.allSatisfy { (2...8).contains($0.schedule.batchSize) })
        // 20 draws spread over the ranges: both ends of int, both choices, several decades of lr.
        XCTAssertEqual(Set(configs.map(\.model.upsample)).count, 2)
        XCTAssertGreaterThan(Set(configs.map(\.schedule.batchSize)).count, 3)
        let decades = Set(configs.map { Int(floor(log10($0.optimizer.lr))) })
        XCTAssertGreaterThanOrEqual(decades.count, 2)
        XCTAssertTrue(a.runs[0].id.hasPrefix("seed=0,lr="), a.runs[0].id)

        let other = try loadConfig(randomText.replacingOccurrences(of: "seed: 1\n", with: "seed: 2\n"))
        XCTAssertNotEqual(other.runs.map(\.config.optimizer.lr), a.runs.map(\.config.optimizer.lr))
    }

    func testSampledValuesAreRoundedInsideTheirRange() {
        XCTAssertEqual(SweepSpec.rounded(0.123456, within: 0.1...0.2), "0.1235")
        XCTAssertEqual(SweepSpec.rounded(3.4567e-5, within: 1e-6...1e-3), "3.457e-05")
        XCTAssertEqual(SweepSpec.rounded(0.123449, within: 0.12345...0.2), "0.12345")
    }

    func testRandomSectionErrors() {
        XCTAssertEqual(configErrors("sweep:\n  random: {n: 0, params: {seed: {int: [0, 9]}}}\n"),
                       ["exp.yaml:2:15: sweep.random.n (the number of draws) must be an integer >= 1"])
        XCTAssertEqual(configErrors("sweep:\n  random: {n: 2, params: {optimizer.lr: {loguniform: [0, 1]}}}\n"),
                       ["exp.yaml:2:54: sweep.random.params.optimizer.lr.loguniform must be [lo, hi], two numbers > 0 with lo <= hi, got [0, 1]"])
        XCTAssertEqual(configErrors("sweep:\n  random: {n: 2, params: {seed: {normal: [0, 1]}}}\n"),
                       ["exp.yaml:2:33: sweep.random.params.seed must be one of {choice: [...]}, {uniform: [lo, hi]}, {loguniform: [lo, hi]}, {int: [lo, hi]}"])
        XCTAssertEqual(configErrors("sweep:\n  random: {n: 2, params: {seed: {int: [0, 1.5]}}}\n"),
                       ["exp.yaml:2:39: sweep.random.params.seed.int must be [lo, hi], two integers with lo <= hi, got [0, 1.5]"])
    }

    func testIntRangesThatCouldOverflowAreRefused() {
        XCTAssertEqual(configErrors("sweep:\n  random: {n: 1, params: {seed: {int: [-9223372036854775807, 9223372036854775807]}}}\n").count, 1)
    }

    func testSweepPathErrors() {
        XCTAssertEqual(configErrors("sweep:\n  model.bas_c: [32, 64]\n"),
                       ["exp.yaml:2:3: sweep: unknown key 'bas_c' in model; did you mean 'base_c'?"])
        XCTAssertEqual(configErrors("sweep:\n  modle.base_c: [32, 64]\n"),
                       ["exp.yaml:2:3: sweep: unknown key 'modle'; did you mean 'model'?"])
        XCTAssertEqual(configErrors("sweep:\n  name: [a, b]\n"), ["exp.yaml:2:3: sweep: 'name' cannot be swept"])
        XCTAssertEqual(configErrors("sweep:\n  model.base_c: 32\n"),
                       ["exp.yaml:2:17: sweep: 'model.base_c' needs a non-empty list of values, as in [32, ...]; got '32'"])
        XCTAssertEqual(configErrors("sweep:\n  model: [{base_c: 8}]\n  zip: [{model.base_c: [1]}]\n"),
                       ["exp.yaml:3:10: sweep: 'model.base_c' overlaps 'model' (see line 2)"])
        XCTAssertEqual(configErrors("sweep:\n  stages.3.lr: [1, 2]\n"),
                       ["exp.yaml:2:17: run lr=1: stages has 0 entries, so stages.3 does not exist",
                        "exp.yaml:2:20: run lr=2: stages has 0 entries, so stages.3 does not exist"])
        XCTAssertEqual(configErrors("model: {base_c: 8}\nsweep:\n  model.base_c: [16, 32]\n", overrides: ["model.base_c=64"]),
                       ["--set model.base_c=64: model.base_c is swept (exp.yaml:3:3); change the sweep instead, as in --set 'sweep.model.base_c=[64]'"])
    }

    func testSweepOverridesFromTheCommandLine() throws {
        let text = "sweep:\n  model.base_c: [16, 32]\n  seed: [0, 1, 2]\n"
        let e = try loadConfig(text, overrides: ["sweep.model.base_c=[8]", "sweep.random.n=2", "sweep.random.params.optimizer.lr={uniform: [0.01, 0.02]}"])
        XCTAssertEqual(e.runs.count, 6)
        XCTAssertTrue(e.runs[0].id.hasPrefix("base_c=8,seed=0,lr=0.01"), e.runs[0].id)
    }

    /// A bad swept value is reported at the value, once, naming the first run that has it.
    func testEveryRunIsValidatedAndErrorsNameTheRun() {
        let text = """
        optimizer: {lr: 0.01}
        sweep:
          model.base_c: [8, 16]
          model.upsample: [bilinear, x]
        """
        XCTAssertEqual(configErrors(text), [
            "exp.yaml:4:30: run base_c=8,upsample=x: model.upsample must be 'bilinear' or 'transposed', got 'x' (and 1 more run)",
        ])
        // A problem every run shares is reported once, as in a file without a sweep.
        XCTAssertEqual(configErrors("optimizer: {lr: -1}\nsweep:\n  seed: [0, 1]\n"),
                       ["exp.yaml:1:17: optimizer.lr must be > 0, got -1"])
        // A contradiction that only some runs have.
        XCTAssertEqual(configErrors("stages: [{epochs: 10}, {epochs: 10}]\nschedule: {epochs: 20}\nsweep:\n  schedule.epochs: [20, 30]\n"),
                       ["exp.yaml:1:9: run epochs=30: stages add up to 20 epochs, but schedule.epochs is 30 (line 4); make them agree or drop schedule.epochs"])
    }

    func testSweepErrorsDoNotHideTheFileErrors() {
        XCTAssertEqual(configErrors("model: {base_c: x}\nsweep:\n  model.bas_c: [1]\n"), [
            "exp.yaml:1:17: model.base_c: expected an integer, got 'x'",
            "exp.yaml:3:3: sweep: unknown key 'bas_c' in model; did you mean 'base_c'?",
        ])
    }

    func testRunIDsAreFileNamesAndUnique() throws {
        let e = try loadConfig("sweep:\n  data.root: [a/b, \"a b\", \"../x\"]\n  optimizer.lr: [0.1]\n  stages.0.lr: [0.2]\nstages: [{epochs: 200}]\n")
        XCTAssertEqual(e.runs.map(\.id), ["root=a_b,optimizer.lr=0.1,stages.0.lr=0.2",
                                          "root=a_b,optimizer.lr=0.1,stages.0.lr=0.2,run=1",
                                          "root=.._x,optimizer.lr=0.1,stages.0.lr=0.2"])
        XCTAssertEqual(RunID.sanitize(".hidden"), "_hidden")
        XCTAssertEqual(editDistance("kitten", "sitting"), 3)
        XCTAssertEqual(closestMatch(to: "upsampel", in: ConfigSchema.root.child("model")?.keys ?? []), "upsample")
        XCTAssertEqual(RunID.sanitize(String(repeating: "a", count: 500)).count, RunID.maxLength)
    }

    func testHugeSweepsAreRefused() {
        let values = "[" + (0..<100).map(String.init).joined(separator: ", ") + "]"
        let text = "sweep:\n  seed: \(values)\n  model.base_c: \(values)\n  threads: \(values)\n"
        XCTAssertEqual(configErrors(text), ["exp.yaml:2:3: sweep expands to more than 100000 runs"])
    }

    /// FIPS 180-4 example vectors: the run hash must not depend on a hand-rolled digest being wrong.
    func testSHA256KnownVectors() {
        XCTAssertEqual(SHA256.hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        XCTAssertEqual(SHA256.hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertEqual(SHA256.hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
                       "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        XCTAssertEqual(SHA256.hex(String(repeating: "a", count: 1_000_000)),
                       "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }
}
