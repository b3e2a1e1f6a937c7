import XCTest
@testable import Nets

/// A model with the parameter names of tools/fixtures/optimizers.py, a frozen weight and a buffer.
final class OptimizerToyHead: Module {
    let weight = Parameter(Tensor(shape: [6, 5]))
}

final class OptimizerToy: Module {
    let weight = Parameter(Tensor(shape: [4, 3, 3, 3]))
    let bias = Parameter(Tensor(shape: [4]))
    let frozen = Parameter(Tensor(shape: [3]))
    let running_mean = Parameter(Tensor(shape: [4], repeating: 0.5), kind: .buffer)
    let head = OptimizerToyHead()

    init(_ fixture: [String: Tensor]) {
        super.init()
        frozen.trainable = false
        for (key, p) in namedParameters() {
            if let t = fixture["init.\(key)"] { p.value.data.update(from: t.data, count: p.value.count) }
        }
    }

    /// Copies of every parameter's values, to compare after steps.
    func snapshot() -> [String: [Float]] {
        Dictionary(uniqueKeysWithValues: namedParameters().map { ($0.0, $0.1.value.array) })
    }
}

/// The optimisers against torch.optim trajectories (tools/fixtures/optimizers.py), plus
/// frozen parameters, exact resume from saved state, and the errors of a bad state.
final class OptimizerTests: XCTestCase {
    static let trained = ["weight", "bias", "head.weight"]
    static let steps = 6

    func fixture() throws -> [String: Tensor] {
        let path = try XCTUnwrap(Bundle.module.path(forResource: "optimizers", ofType: "safetensors", inDirectory: "Fixtures"))
        return try SafeTensors.read(path)
    }

    /// The scenarios of optimizers.py, with the same hyperparameters.
    func optimizer(_ scenario: String, _ model: Module) throws -> any Optimizer {
        let ps = model.namedParameters()
        switch scenario {
        case "sgd": return try SGD(ps, lr: 0.1, momentum: 0.9, weightDecay: 1e-4)
        case "sgd_nesterov": return try SGD(ps, lr: 0.1, momentum: 0.9, nesterov: true, weightDecay: 5e-4)
        case "sgd_dampening": return try SGD(ps, lr: 0.1, momentum: 0.8, dampening: 0.3)
        case "sgd_plain": return try SGD(ps, lr: 0.1, weightDecay: 1e-2)
        case "adam": return try Adam(ps, lr: 1e-2, weightDecay: 1e-4)
        case "adam_amsgrad": return try Adam(ps, lr: 1e-2, betas: (0.8, 0.99), eps: 1e-6, amsgrad: true)
        case "adamw": return try AdamW(ps, lr: 1e-2, betas: (0.3, 0.9), weightDecay: 0.05)
        default: fatalError("no scenario \(scenario)")
        }
    }

    static let scenarios = ["sgd", "sgd_nesterov", "sgd_dampening", "sgd_plain", "adam", "adam_amsgrad", "adamw"]

    /// Sets the gradients of step `k` (nil where the fixture has none); the frozen weight and
    /// the buffer get a gradient too, which the optimiser must ignore.
    func setGradients(_ model: OptimizerToy, step k: Int, _ f: [String: Tensor]) {
        for key in Self.trained {
            let p = model.namedParameters().first { $0.0 == key }!.1
            p.grad = f["grad.\(k).\(key)"].map { g in
                let t = p.value.zerosLike()
                t.data.update(from: g.data, count: t.count)
                return t
            }
        }
        model.frozen.grad = Tensor(shape: [3], repeating: 1)
        model.running_mean.grad = Tensor(shape: [4], repeating: 1)
    }

    /// Every step of every scenario, and the final state, match torch.optim to 2e-6 of
    /// max(1, |value|): the update is the same float32 formula with the same scalars, but
    /// PyTorch's vector kernels fuse multiply-adds (one rounding where we round twice), so a
    /// few last bits differ (worst seen: 8e-7, a momentum buffer after 6 steps). A wrong
    /// formula (no bias correction; a momentum buffer started at zero, which `sgd_dampening`
    /// shows) is off by more than 1e-2.
    func testMatchesTorchOptim() throws {
        let f = try fixture()
        for scenario in Self.scenarios {
            let model = OptimizerToy(f)
            let before = model.snapshot()
            let opt = try optimizer(scenario, model)
            let lrs = try XCTUnwrap(f["\(scenario).lr"]).array.map { Double($0) }
            for k in 0..<Self.steps {
                opt.lr = lrs[k]
                setGradients(model, step: k, f)
                opt.step()
                for (key, p) in model.namedParameters() where Self.trained.contains(key) {
                    assertClose(p.value, try XCTUnwrap(f["\(scenario).\(k).\(key)"]), "\(scenario) step \(k) \(key)")
                }
            }
            // Frozen weights and buffers stay bitwise unchanged even with a gradient set.
            XCTAssertEqual(model.frozen.value.array, before["frozen"], scenario)
            XCTAssertEqual(model.running_mean.value.array, before["running_mean"], scenario)

            // The state holds torch's slots under torch's names, with torch's values.
            let state = opt.state()
            let prefix = "\(scenario).state."
            let torchKeys = Set(f.keys.filter { $0.hasPrefix(prefix) }.map { String($0.dropFirst(prefix.count)) })
            XCTAssertEqual(Set(state.keys), torchKeys.union(["step"]), scenario)
            for key in torchKeys {
                assertClose(try XCTUnwrap(state[key]), f[prefix + key]!, "\(scenario) state \(key)")
            }
            XCTAssertEqual(state["step"]?.data[0], Float(Self.steps))
        }
    }

    func assertClose(_ a: Tensor, _ b: Tensor, _ name: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.count, b.count, name, file: file, line: line)
        for i in 0..<min(a.count, b.count) where abs(a.data[i] - b.data[i]) > 2e-6 * max(1, abs(b.data[i])) {
            XCTFail("\(name)[\(i)]: \(a.data[i]) vs torch \(b.data[i])", file: file, line: line)
            return
        }
    }

    /// Saving after 3 steps and loading into a fresh optimiser on a copy of the model gives
    /// bitwise the same next steps as never stopping.
    func testResumeFromStateIsExact() throws {
        let f = try fixture()
        for scenario in Self.scenarios {
            let model = OptimizerToy(f), twin = OptimizerToy(f)
            let opt = try optimizer(scenario, model)
            for k in 0..<3 {
                opt.lr = 0.01 * Double(k + 1)
                setGradients(model, step: k, f)
                opt.step()
            }
            // The twin gets the parameters and the saved state, as from a checkpoint.
            for ((_, p), (_, q)) in zip(model.namedParameters(), twin.namedParameters()) {
                q.value.data.update(from: p.value.data, count: p.value.count)
            }
            let resumed = try optimizer(scenario, twin)
            try resumed.load(state: opt.state())
            XCTAssertEqual(Set(resumed.state().keys), Set(opt.state().keys), scenario)
            for k in 3..<Self.steps {
                for (o, m) in [(opt, model), (resumed, twin)] {
                    o.lr = 0.02
                    setGradients(m, step: k, f)
                    o.step()
                }
            }
            XCTAssertEqual(model.snapshot(), twin.snapshot(), scenario)
            let (a, b) = (opt.state(), resumed.state())
            XCTAssertEqual(Set(a.keys), Set(b.keys), scenario)
            for (key, t) in a { XCTAssertEqual(t.array, b[key]?.array, "\(scenario) \(key)") }
        }
    }

    /// Loading copies the tensors: changing the saved dictionary afterwards changes nothing.
    func testLoadCopies() throws {
        let f = try fixture()
        let model = OptimizerToy(f)
        let opt = try SGD(model.namedParameters(), lr: 0.1, momentum: 0.9)
        setGradients(model, step: 0, f)
        opt.step()
        let state = opt.state()
        let other = try SGD(OptimizerToy(f).namedParameters(), lr: 0.1, momentum: 0.9)
        try other.load(state: state)
        state["bias.momentum_buffer"]!.fill(7)
        XCTAssertNotEqual(other.state()["bias.momentum_buffer"]!.array, state["bias.momentum_buffer"]!.array)
        XCTAssertEqual(other.state()["bias.momentum_buffer"]!.array, opt.state()["bias.momentum_buffer"]!.array)
    }

    func testBadStateThrows() throws {
        let f = try fixture()
        let model = OptimizerToy(f)
        let adam = try Adam(model.namedParameters())
        setGradients(model, step: 0, f)
        adam.step()
        let good = adam.state()
        func expect(_ state: [String: Tensor], into opt: any Optimizer, _ message: String, line: UInt = #line) {
            XCTAssertThrowsError(try opt.load(state: state), line: line) { error in
                XCTAssertEqual("\(error)", message, line: line)
            }
        }
        let fresh = try Adam(OptimizerToy(f).namedParameters())
        var s = good
        s["step"] = nil
        expect(s, into: fresh, "Adam state has no 'step' entry")
        s = good
        s["head.weight.exp_avg_sq"] = nil
        expect(s, into: fresh, "Adam state for 'head.weight' lacks 'head.weight.exp_avg_sq'")
        s = good
        s["bias.exp_avg"] = Tensor(shape: [5])
        expect(s, into: fresh, "Adam state 'bias.exp_avg' has shape [5], expected [4]")
        s = good
        s["tail.weight.exp_avg"] = Tensor(shape: [4])
        expect(s, into: fresh, "Adam state 'tail.weight.exp_avg' names no learnable parameter of the model")
        s = good
        s["running_mean.exp_avg"] = Tensor(shape: [4])
        expect(s, into: fresh, "Adam state 'running_mean.exp_avg' names no learnable parameter of the model")
        expect(good, into: try SGD(OptimizerToy(f).namedParameters(), lr: 0.1, momentum: 0.9),
               "unexpected SGD state 'bias.exp_avg' (slots are momentum_buffer)")
        expect(good, into: try Adam(OptimizerToy(f).namedParameters(), amsgrad: true),
               "Adam state for 'weight' lacks 'weight.max_exp_avg_sq'")
        // A failed load leaves the optimiser as it was.
        XCTAssertEqual(fresh.state().keys.sorted(), ["step"])
    }

    /// The updates run sixteen floats at a time, the tail one at a time, in per-thread chunks
    /// that start anywhere: on a 70,001-float parameter split over two threads every element
    /// still equals torch's scalar formula evaluated here in the same order, bit for bit.
    func testVectorUpdatesEqualScalarFormula() throws {
        let count = 70_001, saved = Threads.count
        Threads.set(2)
        defer { Threads.set(saved) }
        var rng = SystemRandomNumberGenerator()
        let start = (0..<count).map { _ in Float.random(in: -1...1, using: &rng) }
        let grads = (0..<2).map { _ in (0..<count).map { _ in Float.random(in: -1...1, using: &rng) } }
        func run(_ make: ([(String, Parameter)]) throws -> any Optimizer) rethrows -> [Float] {
            let p = Parameter(Tensor(shape: [count], values: start))
            let opt = try make([("w", p)])
            for g in grads {
                p.grad = Tensor(shape: [count], values: g)
                opt.step()
            }
            return p.value.array
        }
        let (lr, mu, wd): (Float, Float, Float) = (0.1, 0.9, 1e-4)
        var p = start, b = [Float](repeating: 0, count: count)
        for (k, g) in grads.enumerated() {
            for i in 0..<count {
                let d = g[i] + wd * p[i]
                b[i] = k == 0 ? d : mu * b[i] + 1 * d
                p[i] -= lr * (d + mu * b[i])
            }
        }
        XCTAssertEqual(try run { try SGD($0, lr: 0.1, momentum: 0.9, nesterov: true, weightDecay: 1e-4) }, p)

        let (b1, b2, eps, decay): (Double, Double, Float, Float) = (0.9, 0.999, 1e-8, Float(1 - 1e-2 * 0.05))
        p = start
        var m = [Float](repeating: 0, count: count), v = m, vmax = m
        for (k, g) in grads.enumerated() {
            let t = Double(k + 1)
            let stepSize = Float(1e-2 / (1 - pow(b1, t))), correction2 = Float((1 - pow(b2, t)).squareRoot())
            for i in 0..<count {
                p[i] *= decay
                m[i] = m[i] + Float(1 - b1) * (g[i] - m[i])
                v[i] = v[i] * Float(b2) + Float(1 - b2) * g[i] * g[i]
                vmax[i] = max(vmax[i], v[i])
                p[i] += -stepSize * m[i] / (vmax[i].squareRoot() / correction2 + eps)
            }
        }
        XCTAssertEqual(try run { try AdamW($0, lr: 1e-2, weightDecay: 0.05, amsgrad: true) }, p)
    }

    func testBadHyperparametersThrow() {
        let ps = OptimizerToy([:]).namedParameters()
        XCTAssertThrowsError(try SGD(ps, lr: 0.1, nesterov: true)) { XCTAssertEqual("\($0)", "Nesterov momentum requires a momentum and zero dampening") }
        XCTAssertThrowsError(try SGD(ps, lr: -1)) { XCTAssertEqual("\($0)", "invalid learning rate: -1.0") }
        XCTAssertThrowsError(try Adam(ps, betas: (0.9, 1)))
        XCTAssertThrowsError(try AdamW(ps, weightDecay: -0.1))
    }
}
