extension Module {
    /// Freezes every learnable parameter under the given name prefixes (`down1`, `up1.conv.0`)
    /// and returns the keys frozen. A BatchNorm whose weight and bias are both frozen also
    /// stops updating its running statistics, so a frozen part of a model keeps exactly what
    /// it learned (PyTorch users get this by calling `.eval()` on the frozen part).
    @discardableResult
    public func freeze(_ prefixes: [String]) -> [String] {
        let keys = setTrainable(false, prefixes: prefixes)
        syncBatchNormFreezing()
        return keys
    }

    /// Makes every learnable parameter trainable again (BatchNorm statistics update again too).
    public func unfreezeAll() {
        for (_, p) in namedParameters() where p.kind == .weight { p.trainable = true }
        syncBatchNormFreezing()
    }

    private func syncBatchNormFreezing() {
        for (_, m) in namedModules() {
            if let bn = m as? BatchNorm2d { bn.frozenStatistics = !bn.weight.trainable && !bn.bias.trainable }
        }
    }
}

extension Module {
    /// Sets the format every convolution below this module computes in (`Precision`).
    public func setPrecision(_ precision: Precision) {
        for (_, m) in namedModules() {
            if let conv = m as? ConvolutionLayer { conv.precision = precision }
        }
    }
}
