import ArgumentParser
import FaceScopeCore
import FaceScopeTUI
import Foundation

extension GraphicsChoice: ExpressibleByArgument {}

/// `facescope` with no subcommand (or `facescope browse`): the terminal browser.
struct BrowseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "browse",
        abstract: "Browse stored images in the terminal (the default when no subcommand is given).",
        discussion: reflowed(
            """
            A list of stored images (paged from Redis), a preview with face boxes and landmarks,
            full-text filename search (/), multi-select (Space, a, x) and re-detection through
            Triton (r). Press ? inside for every key. People (p): rename (e), merge (M), undo (z);
            in the face detail, move the face to another person (v) or set it apart (x); a
            person's faces as a grid of pictures (f); merge suggestions (s).

            Graphics: block symbols through the terminal's cells work everywhere (tmux and ssh
            included); sixel or kitty pictures are used where the terminal is known to show them.
            'facescope doctor' says what was detected and why; --graphics forces a mode.

            Stored filenames are found under the images folder (IMAGES_DIR / --images-dir).
            """))

    @OptionGroup var store: StoreOptions

    @Option(
        name: .customLong("triton-url"),
        help: ArgumentHelp("Triton HTTP endpoint(s) for re-detection (TRITON_SERVER_URL).", valueName: "url"))
    var tritonURL: String?

    @Option(
        name: .customLong("images-dir"),
        help: ArgumentHelp("Folder stored filenames are relative to (IMAGES_DIR).", valueName: "dir"))
    var imagesDir: String?

    @Option(help: ArgumentHelp("auto, symbols, sixel or kitty.", valueName: "mode"))
    var graphics: GraphicsChoice = .auto

    @Flag(help: "Take mouse clicks (select a row) and the wheel (scroll).")
    var mouse = false

    @Flag(name: .customLong("no-triton"), help: "Browse only: no Triton checks, no re-detection.")
    var noTriton = false

    func run() throws {
        var flags: [SettingKey: String] = [:]
        if let tritonURL { flags[.tritonURL] = tritonURL }
        if let imagesDir { flags[.imagesDir] = imagesDir }
        let settings = try store.settings(flags)
        let environment = ProcessInfo.processInfo.environment
        try TerminalBrowser.run(
            BrowserOptions(
                settings: settings, graphics: graphics, mouse: mouse, triton: !noTriton,
                timingsPath: environment["FACESCOPE_TUI_TIMINGS"], environment: environment))
    }
}
