import Foundation

/// What the terminal shows while a sweep trains: a line per epoch, and a live bar within
/// the epoch when standard output is a terminal.
public final class ProgressReporter {
    /// "[2/4] base_c=32,upsample=bilinear": which run of the sweep this is.
    public var runLabel = ""
    private let live: Bool
    private let write: (String) -> Void
    private var lastDraw = Date.distantPast
    /// Called after every optimizer step with the run's iteration count (tests use it to
    /// interrupt a run at a chosen step).
    public var afterStep: ((Int) -> Void)?

    /// `write` receives finished lines (the default prints them); the live bar goes to the
    /// terminal only, and only when `live` (standard output is a terminal by default).
    /// Lines are flushed as they are printed: redirected to a file (a cluster job's log) they
    /// appear as they happen and a killed process loses none.
    public init(live: Bool = isatty(STDOUT_FILENO) != 0, write: @escaping (String) -> Void = { print($0); fflush(stdout) }) {
        self.live = live
        self.write = write
    }

    func step(iteration: Int, epoch: Int, of epochs: Int, batch: Int, of batches: Int, loss: Double, lr: Double,
              imagesPerSecond: Double) {
        afterStep?(iteration)
        guard live, Date().timeIntervalSince(lastDraw) > 0.2 || batch == batches else { return }
        lastDraw = Date()
        let width = 20, filled = batches > 0 ? width * batch / batches : 0
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        let text = "\(runLabel) epoch \(epoch + 1)/\(epochs) [\(bar)] \(batch)/\(batches) "
            + String(format: "loss %.4f lr %.6f %.1f img/s", loss, lr, imagesPerSecond)
        FileHandle.standardOutput.write(Data(("\r\u{1B}[K" + text).utf8))
    }

    /// Prints the epoch's line and returns it (for log.txt).
    @discardableResult
    func epoch(_ record: EpochRecord, of epochs: Int, metric: EvalMetric, eta: Double) -> String {
        if live { FileHandle.standardOutput.write(Data("\r\u{1B}[K".utf8)) }
        var line = "\(runLabel) epoch \(record.epoch + 1)/\(epochs) "
            + String(format: "loss %.4f lr %.6f %.1f img/s", record.trainLoss, record.lr, record.imagesPerSecond)
        if let s = record.scores {
            line += String(format: " dice %.3f mIoU %.1f acc %.1f", s.dice, s.meanIoU * 100, s.globalAccuracy * 100)
        }
        if eta > 0 { line += " ETA \(NumberFormat.duration(eta))" }
        write(line)
        return line
    }

    public func message(_ text: String) {
        if live { FileHandle.standardOutput.write(Data("\r\u{1B}[K".utf8)) }
        write(text)
    }
}
