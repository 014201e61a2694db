// swift-tools-version: 6.0
import PackageDescription

// Layers (dependencies point toward the core; docs/architecture.md draws them):
//   facescope (executable: flags, settings, terminal output, exit statuses)
//     -> FaceScopeTUI      (the terminal browser: ncurses + chafa)
//     -> FaceScopePipeline (use cases: a detection run, clustering, the queue worker, folders)
//     -> FaceScopeImaging  (decoding, EXIF, tensors)   FaceScopeTriton (KServe v2 over libcurl)
//        FaceScopeRedis    (the redis-om compatible store over hiredis)
//     -> FaceScopeCore     (pure Swift: the domain, its ports, settings, errors, the model maths)
// Each C library is wrapped by one system-library target with a shim header (C*: hiredis, curl,
// ncursesw, chafa, turbojpeg, png, webp, exif, heif, crypto), used through its adapter target.
let package = Package(
    name: "FaceScope",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "facescope", targets: ["facescope"]),
        .library(name: "FaceScopeCore", targets: ["FaceScopeCore"]),
        .library(name: "FaceScopeRedis", targets: ["FaceScopeRedis"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0")
    ],
    targets: [
        .systemLibrary(
            name: "CHiredis", pkgConfig: "hiredis", providers: [.apt(["libhiredis-dev"])]),
        .systemLibrary(
            name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        .systemLibrary(
            name: "CNCurses", pkgConfig: "ncursesw", providers: [.apt(["libncursesw5-dev"])]),
        .systemLibrary(
            name: "CChafa", pkgConfig: "chafa", providers: [.apt(["libchafa-dev"])]),
        .systemLibrary(
            name: "CTurboJPEG", pkgConfig: "libturbojpeg", providers: [.apt(["libturbojpeg0-dev"])]),
        .systemLibrary(name: "CPNG", pkgConfig: "libpng", providers: [.apt(["libpng-dev"])]),
        .systemLibrary(name: "CWebP", pkgConfig: "libwebp", providers: [.apt(["libwebp-dev"])]),
        .systemLibrary(name: "CExif", pkgConfig: "libexif", providers: [.apt(["libexif-dev"])]),
        .systemLibrary(name: "CHeif", pkgConfig: "libheif", providers: [.apt(["libheif-dev"])]),
        .systemLibrary(name: "CCrypto", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),
        .target(name: "FaceScopeCore"),
        // Image decoding (JPEG, PNG, WebP, HEIF, EXIF orientation) and the tensors the models take.
        .target(
            name: "FaceScopeImaging", dependencies: ["FaceScopeCore", "CTurboJPEG", "CPNG", "CWebP", "CExif", "CHeif"]),
        // KServe v2 HTTP client for Triton over libcurl.
        .target(name: "FaceScopeTriton", dependencies: ["FaceScopeCore", "CCurl"]),
        .target(name: "FaceScopeRedis", dependencies: ["FaceScopeCore", "CHiredis"]),
        // Images in, documents out: decoding, Triton and the store working together.
        .target(
            name: "FaceScopePipeline",
            dependencies: ["FaceScopeCore", "FaceScopeImaging", "FaceScopeTriton", "FaceScopeRedis", "CCrypto"]),
        // The terminal browser (ncurses + chafa); `facescope` with no subcommand.
        .target(
            name: "FaceScopeTUI",
            dependencies: [
                "FaceScopeCore", "FaceScopeRedis", "FaceScopeImaging", "FaceScopeTriton", "FaceScopePipeline",
                "CNCurses", "CChafa",
            ]),
        .executableTarget(
            name: "facescope",
            dependencies: [
                "FaceScopeCore", "FaceScopeRedis", "FaceScopeTriton", "FaceScopePipeline", "FaceScopeTUI",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),
        // Benchmarks that print tables (scripts/bench.sh); not installed.
        .executableTarget(
            name: "facescope-bench",
            dependencies: [
                "FaceScopeCore", "FaceScopeRedis", "FaceScopeImaging", "FaceScopeTriton", "FaceScopePipeline",
                "CTurboJPEG", "CPNG", .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),
        // In-memory twins of the ports (a document store, an image analyzer) for offline tests.
        .target(name: "FaceScopeTesting", dependencies: ["FaceScopeCore", "FaceScopePipeline"]),
        .testTarget(name: "FaceScopeCoreTests", dependencies: ["FaceScopeCore"]),
        .testTarget(name: "FaceScopeRedisTests", dependencies: ["FaceScopeRedis", "FaceScopeCore"]),
        .testTarget(
            name: "FaceScopePipelineTests",
            dependencies: [
                "FaceScopePipeline", "FaceScopeCore", "FaceScopeRedis", "FaceScopeTriton", "FaceScopeTesting",
            ]),
        .testTarget(name: "FaceScopeTUITests", dependencies: ["FaceScopeTUI", "FaceScopeCore", "FaceScopeTesting"]),
        .testTarget(name: "FaceScopeImagingTests", dependencies: ["FaceScopeImaging", "FaceScopeCore"]),
        .testTarget(name: "FaceScopeTritonTests", dependencies: ["FaceScopeTriton", "FaceScopeCore"]),
    ],
    swiftLanguageModes: [.v6]
)
