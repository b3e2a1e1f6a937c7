import CDNNL
import Foundation
import XCTest
@testable import Nets

/// Our writers of oneDNN's paired bf16 weight layouts against oneDNN's own reorder.
final class PairedWeightsTests: XCTestCase {
    /// Every writer that ResNet-50-like geometries get (1×1 and 3×3, dilated, 64 to 2048
    /// channels) writes the same bytes as oneDNN's reorder into the same format, with NaN,
    /// infinities, a subnormal and rounding ties among the weights.
    func testWritersMatchOneDNNReorderBitForBit() throws {
        try XCTSkipUnless(KernelLibrary.hasBF16, "no bf16 kernels on this CPU (\(KernelLibrary.cpuISA))")
        let shapes = [(512, 2048, 1, 1), (2048, 512, 1, 1), (64, 256, 1, 1), (256, 256, 3, 2), (64, 64, 3, 1),
                      (1024, 512, 3, 1), (96, 64, 3, 1)]
        var compared: [String] = []
        for (index, (inputs, outputs, kernel, dilation)) in shapes.enumerated() {
            var g = ConvGeometry(n: 2, inChannels: inputs, outChannels: outputs, height: 6, width: 5, kernel: kernel,
                                 stride: 1, padding: dilation * (kernel / 2), dilation: dilation, bias: false,
                                 transposed: false)
            g.precision = .bf16
            g.inputPrecision = .bf16
            let conv = ConvolutionKernel.get(g)
            let weight = GradCheck.randomTensor(g.userWeightShape, seed: UInt64(40 + index))
            let special: [UInt32] = [0x7FC0_0000, 0x7F80_0000, 0xFF80_0000, 0x0000_8001, 0x3F80_8000, 0x3F81_8000,
                                     0xBF80_7FFF, 0x7F7F_FFFF]
            for (i, bits) in special.enumerated() { weight.data[i * 97] = Float(bitPattern: bits) }
            for (name, primitive) in [("forward", conv.forward), ("backward data", conv.backwardData)] {
                let want = primitive.md(dnnl_query_weights_md)
                guard let writer = PairedWeights(want, g) else { continue }
                let ours = DNNL.storage(for: want), theirs = DNNL.storage(for: want)
                writer.write(weight, into: ours)
                DNNL.reorder(from: conv.userWeights, weight.storage, to: want, theirs.storage)
                XCTAssertEqual(memcmp(ours.storage, theirs.storage, want.bytes), 0, "\(name) of \(g)")
                compared.append("\(name) \(inputs)→\(outputs) \(kernel)×\(kernel)")
            }
        }
        // oneDNN 3.x on an AMX CPU picks these layouts for both passes of every shape above;
        // 2.x names no backward-data one, and other CPUs may pick none.
        try XCTSkipIf(compared.isEmpty, "oneDNN picked no paired layout here (\(KernelLibrary.cpuISA))")
        print("paired weight writers compared: \(compared.count): \(compared.joined(separator: ", "))")
    }
}
