#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// A failed operation on a result file, or one that cannot be read back: one line that starts with the path.
public struct ResultsError: Error, CustomStringConvertible, Equatable {
    public let description: String

    init(_ path: String, _ message: String) { description = "\(path): \(message)" }

    init(_ path: String, _ message: String, errno code: Int32) {
        self.init(path, "\(message): \(String(cString: strerror(code)))")
    }
}
