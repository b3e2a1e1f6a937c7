import Foundation

/// Ctrl-C and SIGTERM ask a run to stop: the trainer finishes its current step, writes a
/// checkpoint and returns. A second signal exits at once.
public enum Interrupt {
    // A plain global read by the training loop and written by the signal handler; a
    // pointer keeps the compiler from caching it in a register across calls.
    nonisolated(unsafe) private static let flag: UnsafeMutablePointer<Int32> = {
        let p = UnsafeMutablePointer<Int32>.allocate(capacity: 1)
        p.initialize(to: 0)
        return p
    }()

    /// True once SIGINT or SIGTERM arrived.
    public static var requested: Bool { flag.pointee != 0 }

    /// Installs the handlers (once, from the command line tool).
    public static func install() {
        _ = flag
        for sig in [SIGINT, SIGTERM] {
            signal(sig) { received in
                if Interrupt.flag.pointee != 0 { _exit(128 + received) }
                Interrupt.flag.pointee = received
            }
        }
    }

    /// The signal that stopped the run (for the exit status 128 + signal), 0 if none.
    public static var signalNumber: Int32 { flag.pointee }

    /// Clears the request (tests).
    public static func reset() { flag.pointee = 0 }

    /// Raises the request as a signal would (tests).
    public static func request() { flag.pointee = SIGINT }
}
