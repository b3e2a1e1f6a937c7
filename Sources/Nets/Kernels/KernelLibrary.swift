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

extension KernelLibrary {
    /// Whether oneDNN has bf16 convolution kernels on this CPU (AVX512-BF16 or AMX). Elsewhere
    /// it would emulate them slowly or not at all, so bf16 falls back to fp32.
    public static var hasBF16: Bool {
        let bf16 = dnnl_cpu_isa_avx512_core_bf16.rawValue
        return dnnl_get_effective_cpu_isa().rawValue & bf16 == bf16
    }

    /// The precision a request runs at here, and the one-line notice to show when that is
    /// not what was asked for (bf16 on a CPU without bf16 kernels runs in fp32).
    public static func available(_ requested: Precision) -> (precision: Precision, notice: String?) {
        guard requested == .bf16, !hasBF16 else { return (requested, nil) }
        return (.fp32, "notice: precision bf16 needs a CPU with AVX512-BF16 or AMX (oneDNN reports \(cpuISA)); running in fp32")
    }
}
