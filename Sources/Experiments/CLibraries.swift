import CGIF
import CJPEG
import CPNG
import CTIFF
import CYAML

/// Versions of the C libraries runexp reads its inputs with, for `runexp --version` and run logs.
public enum CLibraries {
    public static var summary: String {
        let yaml = String(cString: yaml_get_version_string())
        let png = PNG_LIBPNG_VER_STRING
        let tiff = String(cString: TIFFGetVersion()).split(separator: "\n").first.map(String.init) ?? "?"
        return "libyaml \(yaml), libpng \(png), libjpeg \(JPEG_LIB_VERSION), giflib \(GIFLIB_MAJOR).\(GIFLIB_MINOR).\(GIFLIB_RELEASE), \(tiff)"
    }
}
