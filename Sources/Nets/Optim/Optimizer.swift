/// Updates a model's trainable parameters from their gradients (`torch.optim` semantics).
///
/// Parameters that are frozen (`needsGrad` false) or have no gradient are skipped and their
/// state is left untouched, as PyTorch skips a parameter whose `.grad` is None.
public protocol Optimizer: AnyObject {
    /// The learning rate of the next step; a scheduler sets it before every step.
    /// Hyperparameters are Doubles, as PyTorch's Python floats: the per-step scalar
    /// arithmetic (1 − β, bias corrections) is done in double and only then rounded to
    /// float32, which keeps the trajectories on PyTorch's.
    var lr: Double { get set }
    /// Applies one update to every trainable parameter that has a gradient.
    func step()
    /// Everything the next steps depend on besides the hyperparameters: `"step"` (the
    /// number of steps taken) and `"<parameter key>.<slot>"` tensors such as
    /// `"down1.0.weight.exp_avg"`, under PyTorch's own slot names.
    func state() -> [String: Tensor]
    /// Restores a `state()` for an exact resume; throws on a missing, unknown or mis-shaped entry.
    func load(state: [String: Tensor]) throws
}

/// A hyperparameter out of range, or optimiser state that does not fit the model.
public struct OptimizerError: Error, CustomStringConvertible {
    public let description: String
    init(_ message: String) { description = message }
}

/// The tensors an optimiser keeps for each parameter between steps (momentum buffers,
/// Adam's moments), created on a parameter's first update and saved as
/// `"<parameter key>.<slot>"`; shared by the optimisers so that saving and checking a
/// state is written once.
struct ParameterSlots {
    /// Slot names in storage order; a scalar slot (Adam's per-parameter step) has shape [].
    let names: [String]
    let scalar: Set<String>
    /// The learnable parameters by key, in model order.
    let parameters: [(key: String, parameter: Parameter)]
    private(set) var slots: [String: [Tensor]] = [:]
    /// Number of `step()` calls.
    var steps = 0

    init(_ parameters: [(String, Parameter)], names: [String], scalar: Set<String> = []) {
        self.parameters = parameters.filter { $0.1.kind == .weight }.map { (key: $0.0, parameter: $0.1) }
        self.names = names
        self.scalar = scalar
    }

    /// The parameters a step updates, with their gradients.
    var updatable: [(key: String, parameter: Parameter, grad: Tensor)] {
        parameters.compactMap { entry in
            guard entry.parameter.needsGrad, let grad = entry.parameter.grad else { return nil }
            precondition(grad.shape == entry.parameter.value.shape && grad.layout == entry.parameter.value.layout,
                         "gradient of \(entry.key) is \(grad), parameter is \(entry.parameter.value)")
            return (entry.key, entry.parameter, grad)
        }
    }

    /// The slots of `key`, made by `create` on first use.
    mutating func slots(_ key: String, create: () -> [Tensor]) -> (tensors: [Tensor], created: Bool) {
        if let existing = slots[key] { return (existing, false) }
        let made = create()
        precondition(made.count == names.count)
        slots[key] = made
        return (made, true)
    }

    func state() -> [String: Tensor] {
        var out: [String: Tensor] = ["step": Tensor(shape: [], values: [Float(steps)])]
        for (key, tensors) in slots {
            for (name, t) in zip(names, tensors) { out["\(key).\(name)"] = t.copy() }
        }
        return out
    }

    mutating func load(_ state: [String: Tensor], optimizer: String) throws {
        guard let step = state["step"] else { throw OptimizerError("\(optimizer) state has no 'step' entry") }
        guard step.count == 1, step.data[0] >= 0, step.data[0] == step.data[0].rounded() else {
            throw OptimizerError("\(optimizer) state 'step' must be one non-negative whole number, got \(step.shape)")
        }
        let shapes = Dictionary(uniqueKeysWithValues: parameters.map { ($0.key, $0.parameter.value.shape) })
        var found: [String: [String: Tensor]] = [:]
        for (entry, tensor) in state.sorted(by: { $0.key < $1.key }) where entry != "step" {
            guard let dot = entry.lastIndex(of: "."), names.contains(String(entry[entry.index(after: dot)...])) else {
                throw OptimizerError("unexpected \(optimizer) state '\(entry)' (slots are \(names.joined(separator: ", ")))")
            }
            let key = String(entry[..<dot]), name = String(entry[entry.index(after: dot)...])
            guard let shape = shapes[key] else {
                throw OptimizerError("\(optimizer) state '\(entry)' names no learnable parameter of the model")
            }
            let expected = scalar.contains(name) ? [] : shape
            guard tensor.shape == expected || (scalar.contains(name) && tensor.count == 1) else {
                throw OptimizerError("\(optimizer) state '\(entry)' has shape \(tensor.shape), expected \(expected)")
            }
            found[key, default: [:]][name] = tensor
        }
        var restored: [String: [Tensor]] = [:]
        for (key, _) in parameters {
            guard let entries = found[key] else { continue }
            restored[key] = try names.map { name in
                guard let t = entries[name] else {
                    throw OptimizerError("\(optimizer) state for '\(key)' lacks '\(key).\(name)'")
                }
                let copy = Tensor(shape: scalar.contains(name) ? [] : shapes[key]!)
                copy.data.update(from: t.data, count: copy.count)
                return copy
            }
        }
        slots = restored
        steps = Int(step.data[0])
    }
}

/// Throws unless `value` lies in `range`, naming the hyperparameter as PyTorch's checks do.
func checkHyperparameter<R: RangeExpression>(_ name: String, _ value: Double, _ range: R) throws where R.Bound == Double {
    guard range.contains(value) else { throw OptimizerError("invalid \(name): \(value)") }
}
