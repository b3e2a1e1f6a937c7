import Foundation

/// Makes oneDNN's OpenMP threads sleep, not spin, between kernels, unless the user chose.
///
/// After each oneDNN kernel libgomp's threads spin for a while, waiting for the next one, while
/// the engine's own loops (upsampling, concatenation, gradient sums) run on other threads: with
/// as many threads as cores the spinning takes the cores those loops need. Passive waiting made
/// a bf16 UNet step 1.06–1.46× faster in six paired runs on 2 cores, with no consistent change
/// to fp32 UNet or bf16 ResNet-50 steps. libgomp reads `OMP_WAIT_POLICY` once, when it is
/// loaded, before `main`; so when neither it nor `GOMP_SPINCOUNT` is set, the binary sets it
/// and executes itself again: the same process, arguments and environment otherwise.
enum OpenMPWaitPolicy {
    static func passiveUnlessChosen() {
        guard getenv("OMP_WAIT_POLICY") == nil, getenv("GOMP_SPINCOUNT") == nil else { return }
        setenv("OMP_WAIT_POLICY", "passive", 1)
        execv("/proc/self/exe", CommandLine.unsafeArgv)
        // Not reached unless the exec failed (no /proc): run on with libgomp's default.
    }
}
