import Foundation

extension SafeTensors {
    /// Writes `tensors` to `path` atomically: the bytes go to a temporary file in the same
    /// folder, which is flushed to disk and then renamed over `path`, so a crash or kill
    /// leaves either the old file or the complete new one, never a truncated checkpoint.
    ///
    /// Each tensor is stored as `dtypes[name]` (F32 when absent), converted like PyTorch's
    /// `.to(dtype)`; NHWC activations are written in NCHW order, as PyTorch holds them.
    /// Tensors are laid out like the reference writer (larger dtypes first, then by name),
    /// so `safetensors.torch.load_file` opens the file and its bytes match a file PyTorch
    /// would save from the same tensors (up to the order of metadata keys).
    public static func write(_ tensors: [(String, Tensor)], dtypes: [String: DType] = [:],
                             metadata: [String: String] = [:], to path: String) throws {
        var seen = Set<String>()
        for (name, _) in tensors {
            guard name != "__metadata__" else { throw FileError(path, "\"__metadata__\" is reserved and cannot name a tensor") }
            guard seen.insert(name).inserted else { throw FileError(path, "tensor name \(name.debugDescription) appears twice") }
        }
        if let stray = dtypes.keys.first(where: { !seen.contains($0) }) {
            throw FileError(path, "a dtype is given for \(stray.debugDescription), which is not among the tensors")
        }

        let order = tensors.indices.sorted { a, b in
            let (na, nb) = (tensors[a].0, tensors[b].0)
            let (ra, rb) = ((dtypes[na] ?? .f32).rank, (dtypes[nb] ?? .f32).rank)
            return ra != rb ? ra > rb : na.utf8.lexicographicallyPrecedes(nb.utf8)
        }
        var infos: [TensorInfo] = []
        var offset = 0
        for i in order {
            let (name, t) = tensors[i]
            let dtype = dtypes[name] ?? .f32
            let bytes = t.count * dtype.size
            infos.append(TensorInfo(name: name, dtype: dtype, shape: t.shape, dataOffsets: offset..<(offset + bytes)))
            offset += bytes
        }
        let header = encodeHeader(infos, metadata: metadata)

        try AtomicFile.write(to: path) { sink in
            var length = UInt64(header.count).littleEndian
            try withUnsafeBytes(of: &length) { try sink($0.baseAddress!, 8) }
            try header.withUnsafeBytes { try sink($0.baseAddress!, $0.count) }
            for (info, i) in zip(infos, order) {
                try writeTensor(tensors[i].1, as: info, path: path, sink: sink)
            }
        }
    }

    /// Sends one tensor's converted bytes to `sink`, through a bounded buffer.
    private static func writeTensor(_ t: Tensor, as info: TensorInfo, path: String,
                                    sink: (UnsafeRawPointer, Int) throws -> Void) throws {
        let plain = t.layout == .plain ? t : t.converted(to: .plain)
        #if _endian(little)
        if info.dtype == .f32 {
            try sink(UnsafeRawPointer(plain.data), plain.count * 4)
            return
        }
        #endif
        let chunk = 1 << 18
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: chunk * info.dtype.size, alignment: 64)
        defer { buffer.deallocate() }
        var done = 0
        while done < plain.count {
            let n = min(chunk, plain.count - done)
            if let bad = info.dtype.encode(plain.data + done, count: n, into: buffer) {
                throw FileError(path, "\(info.name.debugDescription) element \(done + bad) = \(plain.data[done + bad]) does not fit dtype \(info.dtype.rawValue)")
            }
            try sink(buffer, n * info.dtype.size)
            done += n
        }
    }
}
