// swift-tools-version:6.0
import PackageDescription

// No unsafe flags: the shipped binary keeps Swift's checks (an index or overflow bug stops with
// a message instead of corrupting memory), and Nets stays usable as a package dependency.
// Release builds use SwiftPM's -O with whole-module optimisation; `make test` adds -O to the
// debug build the tests use (unoptimised Swift is 10-50x slower in the layers' loops).
let package = Package(
    name: "runexp",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "runexp", targets: ["runexp"]),
        .library(name: "Nets", targets: ["Nets"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        .systemLibrary(name: "CDNNL", path: "Sources/CDNNL", providers: [.apt(["libdnnl-dev"])]),
        .systemLibrary(name: "CYAML", path: "Sources/CYAML", providers: [.apt(["libyaml-dev"])]),
        .systemLibrary(name: "CPNG", path: "Sources/CPNG", providers: [.apt(["libpng-dev"])]),
        .systemLibrary(name: "CJPEG", path: "Sources/CJPEG", providers: [.apt(["libjpeg62-turbo-dev"])]),
        .systemLibrary(name: "CTurboJPEG", path: "Sources/CTurboJPEG", providers: [.apt(["libturbojpeg0-dev"])]),
        .systemLibrary(name: "CTIFF", path: "Sources/CTIFF", providers: [.apt(["libtiff-dev"])]),
        .systemLibrary(name: "CGIF", path: "Sources/CGIF", providers: [.apt(["libgif-dev"])]),
        .systemLibrary(name: "CZlib", path: "Sources/CZlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CCairo", path: "Sources/CCairo", providers: [.apt(["libcairo2-dev"])]),
        .target(name: "CKernels"),
        .target(name: "Nets", dependencies: ["CDNNL", "CKernels"]),
        .target(name: "Experiments", dependencies: ["Nets", "CYAML", "CPNG", "CJPEG", "CTurboJPEG", "CTIFF", "CGIF", "CZlib", "CCairo"]),
        .executableTarget(
            name: "runexp",
            dependencies: ["Nets", "Experiments", .product(name: "ArgumentParser", package: "swift-argument-parser")]),
        .testTarget(name: "NetsTests", dependencies: ["Nets"], resources: [.copy("Fixtures")]),
        .testTarget(name: "ExperimentsTests", dependencies: ["Experiments", "Nets"], resources: [.copy("Fixtures")]),
    ],
    swiftLanguageModes: [.v5]
)
