#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// Number formatting shared by the result files, matching what the Python recipe prints.
enum NumberFormat {
    /// `x` with `digits` decimals, as Python's `'{:.Nf}'.format(x)`: C's correctly rounded
    /// `%.*f`, with NaN as `nan` (glibc would print a sign-bit NaN from 0/0 as `-nan`).
    static func fixed(_ x: Double, _ digits: Int) -> String {
        if x.isNaN { return "nan" }
        if x.isInfinite { return x < 0 ? "-inf" : "inf" }
        var buffer = [CChar](repeating: 0, count: 64)
        let n = withVaList([Int32(digits), x]) { vsnprintf(&buffer, buffer.count, "%.*f", $0) }
        if n >= buffer.count {
            buffer = [CChar](repeating: 0, count: Int(n) + 1)
            _ = withVaList([Int32(digits), x]) { vsnprintf(&buffer, buffer.count, "%.*f", $0) }
        }
        return String(cString: buffer)
    }

    /// A fraction as a percentage with one decimal, the recipe's `'{:.1f}'.format(v * 100)`.
    static func percent(_ fraction: Double) -> String { fixed(fraction * 100, 1) }

    /// Fractions as Python prints a list of percentage strings: `['97.2', '81.5']`.
    static func percentList(_ fractions: [Double]) -> String { pythonList(fractions.map(percent)) }

    /// Strings as Python's `str` of a list prints them (`['background', 'vessel']`), quoting
    /// each as Python does: in double quotes when it holds `'` and no `"`, else in `'` with `'`
    /// and `\` escaped; so `ast.literal_eval` reads the strings back.
    static func pythonList(_ strings: [String]) -> String {
        func quoted(_ s: String) -> String {
            let quote: Character = s.contains("'") && !s.contains("\"") ? "\"" : "'"
            var text = String(quote)
            for c in s {
                if c == quote || c == "\\" { text.append("\\") }
                text.append(c)
            }
            return text + String(quote)
        }
        return "[" + strings.map(quoted).joined(separator: ", ") + "]"
    }

    /// Whole seconds as `1h02m13s` (hours always shown, so the column sorts as text).
    /// Fractions of a second are dropped, as the recipe's `int(total_time)` does.
    static func duration(_ seconds: Double) -> String {
        guard seconds.isFinite, seconds >= 0 else { return "nan" }
        let s = Int(seconds)
        let mm = (s / 60) % 60, ss = s % 60
        return "\(s / 3600)h\(mm < 10 ? "0" : "")\(mm)m\(ss < 10 ? "0" : "")\(ss)s"
    }
}
