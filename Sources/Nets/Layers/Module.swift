/// A learnable tensor or a persistent buffer (BatchNorm's running statistics),
/// with its gradient and whether the optimiser may change it.
public final class Parameter {
    public enum Kind: Sendable {
        /// Learned by the optimiser.
        case weight
        /// Saved and loaded with the model but not learned (running mean/var).
        case buffer
        /// A counter PyTorch stores as int64 (`num_batches_tracked`); kept here as an exact float.
        case counter
    }

    public var value: Tensor
    /// Gradient accumulated by `backward`; nil until the first backward or after `zeroGrad`.
    public var grad: Tensor?
    /// False when frozen: backward computes no gradient for it and optimisers skip it.
    public var trainable: Bool
    public let kind: Kind

    public init(_ value: Tensor, kind: Kind = .weight) {
        self.value = value
        self.kind = kind
        self.trainable = kind == .weight
    }

    /// True when backward should produce this parameter's gradient.
    public var needsGrad: Bool { kind == .weight && trainable }

    /// Adds `g` into the gradient, allocating it on first use.
    public func accumulate(_ g: Tensor) {
        if let grad { grad.add(g) } else { grad = g }
    }
}

/// The base of every layer and model.
///
/// Children and parameters are found among the stored properties, once per module (the
/// structure is fixed after init), and named by PyTorch's convention: a property's Swift name
/// in snake case is its state-dict key (`inConv` → `in_conv`, `runningMean` → `running_mean`),
/// unless `stateKeys` names it otherwise. Arrays of modules are numbered like `nn.Sequential`.
open class Module {
    /// Training mode: BatchNorm normalises with the batch's statistics and Dropout drops.
    /// Whether anything is kept for backward depends only on whether a `Tape` is recording.
    public private(set) var training = true

    public init() {}

    /// State-dict keys of the properties whose key is not their Swift name in snake case
    /// (`["finalConv": "final"]`).
    open class var stateKeys: [String: String] { [:] }

    private lazy var structure: (children: [(String, Module)], parameters: [(String, Parameter)]) = reflectStructure()

    /// The direct children with their names, in declaration order.
    open func namedChildren() -> [(String, Module)] { structure.children }

    /// The parameters this module owns directly (not its children's).
    public func ownParameters() -> [(String, Parameter)] { structure.parameters }

    private func reflectStructure() -> (children: [(String, Module)], parameters: [(String, Parameter)]) {
        var levels: [(children: [(String, Module)], parameters: [(String, Parameter)])] = []
        var mirror: Mirror? = Mirror(reflecting: self)
        while let m = mirror {
            let renamed = (m.subjectType as? Module.Type)?.stateKeys ?? [:]
            var level: (children: [(String, Module)], parameters: [(String, Parameter)]) = ([], [])
            for child in m.children {
                guard let label = child.label else { continue }
                let key = renamed[label] ?? snakeCase(label)
                if let p = child.value as? Parameter {
                    level.parameters.append((key, p))
                } else if let module = child.value as? Module {
                    level.children.append((key, module))
                } else if let modules = child.value as? [Module] {
                    for (i, module) in modules.enumerated() { level.children.append(("\(key).\(i)", module)) }
                }
            }
            levels.append(level)
            mirror = m.superclassMirror
        }
        // Superclass properties come first, as in a PyTorch module that calls super().__init__ first.
        return (levels.reversed().flatMap(\.children), levels.reversed().flatMap(\.parameters))
    }

    /// Every parameter and buffer below this module with its dotted state-dict key.
    public func namedParameters(prefix: String = "") -> [(String, Parameter)] {
        var out = ownParameters().map { (prefix + $0.0, $0.1) }
        for (name, child) in namedChildren() {
            out += child.namedParameters(prefix: prefix + name + ".")
        }
        return out
    }

    /// Every module below (and including) this one with its dotted name ("" for self).
    public func namedModules(prefix: String = "") -> [(String, Module)] {
        var out: [(String, Module)] = [(prefix.isEmpty ? "" : String(prefix.dropLast()), self)]
        for (name, child) in namedChildren() {
            out += child.namedModules(prefix: prefix + name + ".")
        }
        return out
    }

    /// Switches this module and all below it between training and eval mode.
    public func setTraining(_ on: Bool) {
        training = on
        for (_, child) in namedChildren() { child.setTraining(on) }
    }

    /// Freezes (or unfreezes) every learnable parameter whose key starts with one of `prefixes`;
    /// returns the keys it changed.
    @discardableResult
    public func setTrainable(_ on: Bool, prefixes: [String]) -> [String] {
        var changed: [String] = []
        for (key, p) in namedParameters() where p.kind == .weight {
            if prefixes.contains(where: { key == $0 || key.hasPrefix($0.hasSuffix(".") ? $0 : $0 + ".") }) {
                p.trainable = on
                changed.append(key)
            }
        }
        return changed
    }

    /// Clears every gradient.
    public func zeroGrad() {
        for (_, p) in namedParameters() { p.grad = nil }
    }

    /// Number of learnable elements (what PyTorch counts with `sum(p.numel() for p in model.parameters())`).
    public var parameterCount: Int {
        namedParameters().filter { $0.1.kind == .weight }.reduce(0) { $0 + $1.1.value.count }
    }
}

/// PyTorch's snake case for a Swift name: an underscore before each capital, which is lowered.
func snakeCase(_ name: String) -> String {
    var out = ""
    for ch in name {
        if ch.isUppercase {
            if !out.isEmpty { out.append("_") }
            out.append(contentsOf: ch.lowercased())
        } else {
            out.append(ch)
        }
    }
    return out
}

/// A module with one input and one output: the building block of `Sequential`.
///
/// Only the forward is written: an op that needs a backward records it on the recording
/// `Tape` (see `Tape.op(inputs:learning:)`).
public protocol Layer: Module {
    func forward(_ x: Tensor) -> Tensor
}

extension Layer {
    public func callAsFunction(_ x: Tensor) -> Tensor { forward(x) }
}

/// Layers applied in order, named 0, 1, 2, … like `nn.Sequential`.
public final class Sequential: Module, Layer {
    public let layers: [any Layer]

    public init(_ layers: [any Layer]) {
        self.layers = layers
    }

    public convenience init(_ layers: any Layer...) { self.init(layers) }

    public override func namedChildren() -> [(String, Module)] {
        layers.enumerated().map { ("\($0.offset)", $0.element) }
    }

    public func forward(_ x: Tensor) -> Tensor {
        layers.reduce(x) { $1.forward($0) }
    }

    /// Runs `layers[0...taps.last]` and returns the outputs of the layers at indices `taps`
    /// (strictly increasing), what torchvision's `IntermediateLayerGetter` returns; layers
    /// after the last tap do not run.
    public func forward(_ x: Tensor, taps: [Int]) -> [Tensor] {
        precondition(!taps.isEmpty && zip(taps, taps.dropFirst()).allSatisfy { $0 < $1 } && taps.last! < layers.count,
                     "Sequential: taps \(taps) must increase within \(layers.count) layers")
        var outputs: [Tensor] = []
        var h = x
        for (i, layer) in layers.enumerated().prefix(taps.last! + 1) {
            h = layer(h)
            if taps.contains(i) { outputs.append(h) }
        }
        return outputs
    }
}
