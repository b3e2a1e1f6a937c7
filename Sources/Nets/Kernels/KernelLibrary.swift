import CDNNL

/// Which oneDNN computes the kernels, and with which instruction set: the same config, seed
/// and thread count give the same numbers bit for bit only on the same pair, so runs record it.
public enum KernelLibrary {
    /// `oneDNN 2.7.3 (git 7e6e7c9)`, as the library reports itself at run time.
    public static var version: String {
        guard let v = dnnl_version()?.pointee else { return "oneDNN (unknown version)" }
        let hash = v.hash.map { String(cString: $0) } ?? ""
        let git = hash.isEmpty || hash == "N/A" ? "" : " (git \(hash.prefix(7)))"
        return "oneDNN \(v.major).\(v.minor).\(v.patch)\(git)"
    }

    /// The instruction set oneDNN's kernels dispatch to on this CPU (`avx512_core_bf16`, `avx2`).
    public static var cpuISA: String {
        let isa = dnnl_get_effective_cpu_isa()
        guard let name = dnnl_cpu_isa2str(isa) else { return "isa 0x\(String(isa.rawValue, radix: 16))" }
        return String(cString: name).replacingOccurrences(of: "cpu_isa_", with: "")
    }
}
