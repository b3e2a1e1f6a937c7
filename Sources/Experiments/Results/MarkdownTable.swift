/// A Markdown table whose columns are padded to line up in a terminal, numbers right-aligned
/// (the summary's and `runexp report`'s tables).
struct MarkdownTable {
    var header: [String]
    /// Which columns are right-aligned.
    var numeric: [Bool]
    var rows: [[String]] = []

    var text: String {
        let table = ([header] + rows).map { $0.map(Self.cell) }
        let widths = header.indices.map { c in max(3, table.map { $0[c].count }.max() ?? 3) }
        func line(_ cells: [String]) -> String {
            let padded = cells.indices.map { c in
                let pad = String(repeating: " ", count: widths[c] - cells[c].count)
                return numeric[c] ? pad + cells[c] : cells[c] + pad
            }
            return "| " + padded.joined(separator: " | ") + " |\n"
        }
        let rule = "|" + widths.indices.map { c in
            " " + String(repeating: "-", count: widths[c] - 1) + (numeric[c] ? ":" : "-") + " "
        }.joined(separator: "|") + "|\n"
        return line(table[0]) + rule + table.dropFirst().map(line).joined()
    }

    /// A table cell: pipes escaped, line breaks flattened to spaces.
    static func cell(_ s: String) -> String {
        var out = ""
        for ch in s {
            switch ch {
            case "|": out += "\\|"
            case "\n", "\r", "\r\n": out += " "
            default: out.append(ch)
            }
        }
        return out
    }
}

/// RFC 4180 CSV with CRLF line ends, for spreadsheets and pandas.
enum CSV {
    static func text(_ lines: [[String]]) -> String {
        lines.map { $0.map(field).joined(separator: ",") + "\r\n" }.joined()
    }

    /// A field holding a comma, quote, CR or LF is quoted, quotes doubled.
    static func field(_ s: String) -> String {
        guard s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" || $0 == "\r\n" }) else { return s }
        return "\"" + s.map { $0 == "\"" ? "\"\"" : String($0) }.joined() + "\""
    }
}
