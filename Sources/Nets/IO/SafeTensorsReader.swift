import Foundation

extension SafeTensors {
    /// Everything in a file: tensors as Float32 in plain (PyTorch) layout, with the header
    /// that says which dtype each was stored as, and the metadata.
    public struct File {
        public let header: Header
        public let tensors: [String: Tensor]

        /// The `__metadata__` string map.
        public var metadata: [String: String] { header.metadata }
        /// Names in file order.
        public var names: [String] { header.names }
        /// The tensor named `name`, if present.
        public subscript(name: String) -> Tensor? { tensors[name] }
        /// The dtype `name` was stored as, if present.
        public func dtype(of name: String) -> DType? { header[name]?.dtype }
    }

    /// Reads every tensor of a file as Float32 in plain (PyTorch) layout; integer and
    /// half-precision tensors are converted.
    public static func read(_ path: String) throws -> [String: Tensor] {
        try readFile(path).tensors
    }

    /// Reads every tensor of a file together with its stored dtype and the metadata.
    public static func readFile(_ path: String) throws -> File {
        let reader = try Reader(path)
        var tensors: [String: Tensor] = [:]
        for info in reader.header.tensors {
            let t = Tensor(shape: info.shape)
            try reader.read(info, into: t.data)
            tensors[info.name] = t
        }
        return File(header: reader.header, tensors: tensors)
    }

    /// Reads only the header: names, dtypes, shapes and metadata, without the tensor bytes.
    public static func readHeader(_ path: String) throws -> Header {
        try Reader(path).header
    }

    /// An open safetensors file whose header has been validated; tensors are read on demand
    /// straight into their destination, so loading a checkpoint never holds the file's bytes
    /// and the tensors in memory at once.
    public final class Reader {
        public let path: String
        public let header: Header
        private let fd: Int32
        /// Conversion buffer for non-F32 dtypes, allocated on first use.
        private var scratch: UnsafeMutableRawPointer?
        private static let scratchBytes = 1 << 20

        /// Opens `path` and validates its header; throws `FileError` for any malformed content.
        public init(_ path: String) throws {
            self.path = path
            let fd = open(path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { throw FileError(path, "cannot open: \(errnoText())") }
            do {
                header = try Reader.readHeader(fd, path: path)
            } catch {
                close(fd)
                throw error
            }
            self.fd = fd
        }

        deinit {
            close(fd)
            scratch?.deallocate()
        }

        private static func readHeader(_ fd: Int32, path: String) throws -> Header {
            var st = stat()
            guard fstat(fd, &st) == 0 else { throw FileError(path, "cannot stat: \(errnoText())") }
            guard (st.st_mode & S_IFMT) == S_IFREG else { throw FileError(path, "not a regular file") }
            let fileSize = Int(st.st_size)
            guard fileSize >= 8 else {
                throw FileError(path, "truncated: \(fileSize) bytes, too short for the 8-byte header length")
            }
            var lengthBytes: UInt64 = 0
            try withUnsafeMutableBytes(of: &lengthBytes) { try readFully(fd, $0.baseAddress!, 8, at: 0, path: path) }
            let length = UInt64(littleEndian: lengthBytes)
            guard length <= UInt64(fileSize - 8) else {
                throw FileError(path, "truncated: header length \(length) runs past the end of the file (\(fileSize) bytes)")
            }
            guard length <= UInt64(maxHeaderLength) else {
                throw FileError(path, "header length \(length) exceeds the format's limit of \(maxHeaderLength) bytes")
            }
            var json = Data(count: Int(length))
            try json.withUnsafeMutableBytes { buf in
                if let base = buf.baseAddress { try readFully(fd, base, buf.count, at: 8, path: path) }
            }
            return try parseHeader(json, fileSize: fileSize, path: path)
        }

        /// Reads the tensor named `name` as a new plain Float32 tensor.
        public func read(_ name: String) throws -> Tensor {
            guard let info = header[name] else { throw FileError(path, "no tensor named \(name.debugDescription)") }
            let t = Tensor(shape: info.shape)
            try read(info, into: t.data)
            return t
        }

        /// Reads `info`'s elements, converted to Float32 in plain order, into `dst`, which
        /// must hold `info.count` floats.
        func read(_ info: TensorInfo, into dst: UnsafeMutablePointer<Float>) throws {
            let offset = header.dataStart + info.dataOffsets.lowerBound
            let count = info.count
            #if _endian(little)
            if info.dtype == .f32 {
                // Same bytes as our storage: no conversion pass.
                try SafeTensors.readFully(fd, UnsafeMutableRawPointer(dst), count * 4, at: offset, path: path)
                return
            }
            #endif
            let buffer = scratch ?? UnsafeMutableRawPointer.allocate(byteCount: Reader.scratchBytes, alignment: 64)
            scratch = buffer
            let perChunk = Reader.scratchBytes / info.dtype.size
            var done = 0
            while done < count {
                let n = min(perChunk, count - done)
                try SafeTensors.readFully(fd, buffer, n * info.dtype.size, at: offset + done * info.dtype.size, path: path)
                info.dtype.decode(buffer, count: n, into: dst + done)
                done += n
            }
        }
    }

    /// `pread` until `count` bytes are in, so short reads and signals cannot truncate silently.
    static func readFully(_ fd: Int32, _ dst: UnsafeMutableRawPointer, _ count: Int, at offset: Int, path: String) throws {
        var done = 0
        while done < count {
            let n = pread(fd, dst + done, count - done, off_t(offset + done))
            if n < 0 {
                if errno == EINTR { continue }
                throw FileError(path, "read failed: \(errnoText())")
            }
            guard n > 0 else { throw FileError(path, "file ended early at byte \(offset + done) (was it changed while being read?)") }
            done += n
        }
    }

    static func errnoText() -> String { String(cString: strerror(errno)) }
}
