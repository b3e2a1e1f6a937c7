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
/// Children and parameters are discovered from stored properties, and their
/// property names *are* the PyTorch state-dict keys (`in_conv`, `running_mean`),
/// so a parameter's dotted path comes from the structure alone. Arrays of modules
/// are numbered like `nn.Sequential`.
open class Module {
    /// Training mode: BatchNorm uses batch statistics, Dropout drops, and layers keep
    /// what their backward needs. Eval mode keeps nothing.
    public private(set) var training = true

    public init() {}

    /// The direct children with their names, in declaration order.
    open func namedChildren() -> [(String, Module)] {
        var out: [(String, Module)] = []
        var mirror: Mirror? = Mirror(reflecting: self)
        var levels: [[(String, Module)]] = []
        while let m = mirror {
            var level: [(String, Module)] = []
            for child in m.children {
                guard let label = child.label else { continue }
                if let module = child.value as? Module {
                    level.append((label, module))
                } else if let modules = child.value as? [Module] {
                    for (i, module) in modules.enumerated() { level.append(("\(label).\(i)", module)) }
                }
            }
            levels.append(level)
            mirror = m.superclassMirror
        }
        // Superclass properties come first, as in a PyTorch module that calls super().__init__ first.
        for level in levels.reversed() { out += level }
        return out
    }

    /// The parameters this module owns directly (not its children's).
    open func ownParameters() -> [(String, Parameter)] {
        var out: [(String, Parameter)] = []
        var mirror: Mirror? = Mirror(reflecting: self)
        var levels: [[(String, Parameter)]] = []
        while let m = mirror {
            var level: [(String, Parameter)] = []
            for child in m.children {
                guard let label = child.label else { continue }
                if let p = child.value as? Parameter {
                    level.append((label, p))
                }
            }
            levels.append(level)
            mirror = m.superclassMirror
        }
        for level in levels.reversed() { out += level }
        return out
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
        if !on { clearCache() }
        for (_, child) in namedChildren() { child.setTraining(on) }
    }

    /// Drops tensors this module kept for backward. Layers that keep any override this.
    open func clearCache() {}

    /// Drops the tensors kept for backward by this module and every module below it.
    public func clearAllCaches() {
        for (_, m) in namedModules() { m.clearCache() }
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

/// A module with one input and one output: the building block of `Sequential`.
public protocol Layer: Module {
    /// Computes the output; in training mode keeps what `backward` needs.
    func forward(_ x: Tensor) -> Tensor
    /// Given the gradient of the loss with respect to the output, accumulates parameter
    /// gradients and returns the gradient with respect to the input.
    func backward(_ dy: Tensor) -> Tensor
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

    public func backward(_ dy: Tensor) -> Tensor {
        layers.reversed().reduce(dy) { $1.backward($0) }
    }
}
