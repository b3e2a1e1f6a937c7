/// Records a training forward so that it can be run backward: reverse-mode automatic
/// differentiation in the way of PyTorch's autograd, on a tape rather than a graph.
///
/// While `record` runs, every op whose backward is needed appends a closure over exactly
/// what that backward reads (a convolution's input and prepared weights, a ReLU's output);
/// `backward` replays the closures in reverse, hands each one the gradient of its output
/// and sums what comes back where one tensor fed several consumers. An op records nothing
/// when none of its inputs carries a gradient and none of its parameters learns, so a frozen
/// encoder costs no backward and keeps no activations, and an op just after it computes its
/// parameters' gradients only.
///
/// The tape alone accumulates gradients: an op's backward returns fresh tensors (or, for a
/// pass-through, the gradient it was given), and the tape copies before any in-place update
/// of a tensor that is the gradient of two things at once (a residual sum hands the same
/// gradient to both branches). A gradient arrives in its tensor's format (bf16 for a bf16
/// activation), converted where an op returned another. An op that passes over its output's
/// gradient anyway (a residual block's closing ReLU) may take the pieces unsummed and add
/// them in that pass: a ResNet block's output gradient is never summed in a pass of its own.
///
/// Outside `record` nothing is recorded and layers keep nothing: that is how evaluation runs.
public final class Tape: @unchecked Sendable {
    @TaskLocal static var recording: Tape?

    private var nodes: [TapeNode] = []
    /// How many nodes hold each pending gradient tensor (by identity; a held tensor stays alive).
    private var holders: [ObjectIdentifier: Int] = [:]

    public init() {}

    deinit {
        // An op that keeps its own output (ReLU) closes a cycle through the output's node;
        // a tape dropped without `backward` (a non-finite loss) must still free every activation.
        for node in nodes { node.backward = nil }
    }

    /// Runs `body` (a model's forward) with this tape recording its ops.
    public func record<T>(_ body: () throws -> T) rethrows -> T {
        try Tape.$recording.withValue(self) { try body() }
    }

    /// Marks `tensor` as a leaf whose gradient `gradient(of:)` returns after `backward`, as
    /// `requires_grad_()` does for a model input (tests check input gradients this way).
    public func watch(_ tensor: Tensor) {
        let node = TapeNode(tape: self, inputs: [], consumesGradient: false)
        node.precision = tensor.precision
        tensor.node = node
        nodes.append(node)
    }

    /// How many ops (and watched tensors) are on the tape.
    var recordedCount: Int { nodes.count }

    /// The gradient accumulated into a watched tensor by `backward`, or nil if none reached it.
    public func gradient(of tensor: Tensor) -> Tensor? {
        guard let node = live(tensor) else { return nil }
        return node.gradient.first
    }

    /// Runs the recorded ops backward from the gradients of the given outputs (the loss's
    /// gradient with respect to the main logits and, with its weight, the auxiliary logits).
    /// Parameter gradients accumulate into `Parameter.grad`; the given gradients are left as
    /// they are. The tape is spent afterwards.
    public func backward(_ seeds: [(output: Tensor, gradient: Tensor)]) {
        Tape.$recording.withValue(nil) {
            for (output, gradient) in seeds {
                // The caller's tensor: held once more, never released, so the tape never writes into it.
                hold(gradient)
                if let node = live(output) { accumulate(gradient, into: node) }
            }
            for node in nodes.reversed() {
                guard let run = node.backward else { continue }
                node.backward = nil
                var parts = node.gradient
                guard !parts.isEmpty else { continue }
                node.gradient = []
                parts.forEach(release)
                if node.consumesGradient {
                    // The op writes into the first piece, which no other node may hold. Only the
                    // first two trade places: pieces are summed in the order they came, and only
                    // their first addition is the same either way round.
                    if let free = parts.prefix(2).firstIndex(where: { !isHeld($0) }) {
                        parts.swapAt(0, free)
                    } else {
                        parts[0] = parts[0].copy()
                    }
                }
                let inputGradients = run(parts)
                precondition(inputGradients.count == node.inputs.count, "an op returned the wrong number of gradients")
                for (input, d) in zip(node.inputs, inputGradients) {
                    if let input, let d { accumulate(d, into: input) }
                }
            }
            // Leaves keep their gradients for `gradient(of:)`; everything else is gone.
            nodes.removeAll { !$0.isLeaf }
        }
    }

    // MARK: Recording

    /// The node through which `tensor`'s gradient flows on this tape, if it has one.
    func live(_ tensor: Tensor) -> TapeNode? {
        guard let node = tensor.node, node.tape === self else { return nil }
        return node
    }

    /// Appends `node`, already holding its backward, and makes it `output`'s producer.
    func append(_ node: TapeNode, producing output: Tensor) {
        node.precision = output.precision
        output.node = node
        nodes.append(node)
    }

    // MARK: Accumulation

    private func accumulate(_ d: Tensor, into node: TapeNode) {
        // A gradient has its tensor's format, as in PyTorch: a bf16 activation's is bf16.
        let d = d.converted(to: node.precision)
        guard let existing = node.gradient.first, !node.sumsGradient else {
            node.gradient.append(d)
            hold(d)
            return
        }
        precondition(existing.shape == d.shape && existing.layout == d.layout,
                     "gradient \(d) for a tensor whose gradient so far is \(existing)")
        if holders[ObjectIdentifier(existing)] == 1 {
            existing.add(d)
        } else if holders[ObjectIdentifier(d)] == nil {
            d.add(existing)
            replace(existing, with: d, in: node)
        } else {
            let sum = existing.copy()
            sum.add(d)
            replace(existing, with: sum, in: node)
        }
    }

    private func replace(_ old: Tensor, with new: Tensor, in node: TapeNode) {
        release(old)
        node.gradient = [new]
        hold(new)
    }

    private func hold(_ t: Tensor) { holders[ObjectIdentifier(t), default: 0] += 1 }

    private func release(_ t: Tensor) {
        let id = ObjectIdentifier(t)
        if let n = holders[id], n > 1 { holders[id] = n - 1 } else { holders[id] = nil }
    }

    private func isHeld(_ t: Tensor) -> Bool { holders[ObjectIdentifier(t)] != nil }
}

/// One recorded op: the nodes of its inputs (nil for an input that needs no gradient), the
/// closure that maps its output's gradient to its inputs', and that gradient as it accumulates:
/// one tensor, or for an op that sums the gradient itself the pieces as they arrived.
final class TapeNode {
    weak var tape: Tape?
    let inputs: [TapeNode?]
    let consumesGradient: Bool
    let sumsGradient: Bool
    var backward: (([Tensor]) -> [Tensor?])?
    var gradient: [Tensor] = []
    /// The format of the tensor this node is the gradient path of, and so of its gradient.
    var precision = Precision.fp32

    /// A watched tensor (no producer on the tape): its gradient is kept for the caller.
    var isLeaf: Bool { inputs.isEmpty }

    init(tape: Tape, inputs: [TapeNode?], consumesGradient: Bool, sumsGradient: Bool = false) {
        self.tape = tape
        self.inputs = inputs
        self.consumesGradient = consumesGradient
        self.sumsGradient = sumsGradient
    }
}

/// An op about to be recorded: which of its inputs want a gradient. Layers ask for one with
/// `Tape.op(inputs:learning:)` before computing their output, so that they keep what
/// backward needs only when there will be a backward.
public struct TapeOp {
    private unowned let tape: Tape
    private let inputNodes: [TapeNode?]

    /// For each input, whether backward must return its gradient (nil is returned otherwise).
    public let needsGradient: [Bool]

    fileprivate init(tape: Tape, inputNodes: [TapeNode?]) {
        self.tape = tape
        self.inputNodes = inputNodes
        needsGradient = inputNodes.map { $0 != nil }
    }

    /// Records `backward` as `output`'s: given the gradient with respect to `output`, it
    /// returns one gradient per input (nil where `needsGradient` is false) and accumulates
    /// its parameters' gradients. It must not change the gradient it is given unless
    /// `consumesGradient` says so (the tape then hands it a copy when that tensor is also
    /// another tensor's gradient). `output` may be an input updated in place.
    public func record(_ output: Tensor, consumesGradient: Bool = false,
                       _ backward: @escaping (_ gradient: Tensor) -> [Tensor?]) {
        let node = TapeNode(tape: tape, inputs: inputNodes, consumesGradient: consumesGradient)
        node.backward = { backward($0[0]) }
        tape.append(node, producing: output)
    }

    /// As `record`, for an op that adds up its output's gradient in its own pass over it: the
    /// gradients that reached `output` are handed over as they came, one or more tensors of
    /// its shape, layout and format whose sum is the gradient. With `consumesGradient` the op
    /// may write into the first.
    func recordSummingGradient(_ output: Tensor, consumesGradient: Bool,
                               _ backward: @escaping (_ gradientPieces: [Tensor]) -> [Tensor?]) {
        let node = TapeNode(tape: tape, inputs: inputNodes, consumesGradient: consumesGradient, sumsGradient: true)
        node.backward = backward
        tape.append(node, producing: output)
    }
}

extension Tape {
    /// The op to record for a computation on `inputs`, or nil when there is nothing to record:
    /// no tape is recording, or no input carries a gradient and `learning` (some parameter of
    /// the op is trained) is false.
    public static func op(inputs: [Tensor], learning: Bool = false) -> TapeOp? {
        guard let tape = recording else { return nil }
        let nodes = inputs.map { tape.live($0) }
        guard learning || nodes.contains(where: { $0 != nil }) else { return nil }
        return TapeOp(tape: tape, inputNodes: nodes)
    }

    /// Whether a tape is recording (a training forward that will be run backward).
    static var isRecording: Bool { recording != nil }
}
