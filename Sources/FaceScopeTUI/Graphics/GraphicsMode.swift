import CChafa
import Foundation

/// How pictures reach the terminal.
public enum GraphicsMode: String, Sendable, Equatable, CaseIterable {
    /// Unicode block symbols in coloured character cells, through ncurses: works everywhere,
    /// tmux and ssh included.
    case symbols
    /// DEC sixel images (xterm -ti vt340, foot, WezTerm, mlterm, ...).
    case sixel
    /// The kitty graphics protocol (kitty, WezTerm, Ghostty, Konsole).
    case kitty
}

/// What the user asked for with `--graphics`.
public enum GraphicsChoice: String, Sendable, Equatable, CaseIterable {
    case auto, symbols, sixel, kitty
}

/// The mode chosen, and why: `facescope doctor` prints this.
public struct GraphicsDetection: Sendable, Equatable {
    /// The mode pictures are drawn in.
    public var mode: GraphicsMode
    /// Why, in a sentence naming what was looked at (TMUX, TERM, chafa's database, the flag).
    public var reason: String

    /// A detection result.
    public init(mode: GraphicsMode, reason: String) {
        self.mode = mode
        self.reason = reason
    }
}

/// What chafa's terminal database knows of a terminal.
public struct TerminalCapabilities: Sendable, Equatable {
    /// Whether the kitty graphics protocol is listed for the terminal.
    public var kitty: Bool
    /// Whether sixel graphics are listed for the terminal.
    public var sixel: Bool

    /// Capabilities from what the database says.
    public init(kitty: Bool, sixel: Bool) {
        self.kitty = kitty
        self.sixel = sixel
    }
}

/// Chooses the graphics mode from the environment: tmux and screen get symbols (chafa's
/// database reports tmux as symbols-only, and tmux drops big sixel images), otherwise the
/// terminal's entry in chafa's database decides, kitty before sixel before symbols.
public enum GraphicsDetector {
    /// The mode for `choice` in a process with this environment.
    public static func detect(choice: GraphicsChoice, environment: [String: String]) -> GraphicsDetection {
        if choice != .auto {
            let mode = GraphicsMode(rawValue: choice.rawValue) ?? .symbols
            return GraphicsDetection(mode: mode, reason: "forced with --graphics \(choice.rawValue)")
        }
        return decide(environment: environment, capabilities: probe(environment: environment))
    }

    /// The automatic choice from the environment and what chafa knows of the terminal.
    public static func decide(environment: [String: String], capabilities: TerminalCapabilities) -> GraphicsDetection {
        let term = environment["TERM"] ?? ""
        let termText = term.isEmpty ? "TERM unset" : "TERM=\(term)"
        if let tmux = environment["TMUX"], !tmux.isEmpty {
            return GraphicsDetection(
                mode: .symbols,
                reason: "inside tmux (TMUX is set): chafa's terminal database reports tmux as symbols-only, "
                    + "and tmux drops big sixel images")
        }
        if term.hasPrefix("tmux") || term.hasPrefix("screen") {
            return GraphicsDetection(
                mode: .symbols,
                reason: "\(termText) is a terminal multiplexer: symbols pass through it, pixel graphics do not")
        }
        let program = environment["TERM_PROGRAM"].map { ", TERM_PROGRAM=\($0)" } ?? ""
        if capabilities.kitty {
            return GraphicsDetection(
                mode: .kitty, reason: "\(termText)\(program): chafa's terminal database lists the kitty protocol")
        }
        if capabilities.sixel {
            return GraphicsDetection(
                mode: .sixel, reason: "\(termText)\(program): chafa's terminal database lists sixel graphics")
        }
        return GraphicsDetection(
            mode: .symbols,
            reason: "\(termText)\(program): chafa's terminal database knows no pixel graphics for it")
    }

    /// Asks chafa's terminal database what the terminal described by `environment` supports.
    public static func probe(environment: [String: String]) -> TerminalCapabilities {
        guard let info = TermInfo(environment: environment) else {
            return TerminalCapabilities(kitty: false, sixel: false)
        }
        return TerminalCapabilities(
            kitty: info.has(CHAFA_TERM_SEQ_BEGIN_KITTY_IMMEDIATE_IMAGE_V1),
            sixel: info.has(CHAFA_TERM_SEQ_BEGIN_SIXELS))
    }
}

/// The one Swift owner of a `ChafaTermInfo`.
final class TermInfo {
    let pointer: OpaquePointer

    /// The terminal chafa's database detects from `environment`, supplemented with its fallback
    /// sequences when `withFallback` (so a forced mode has the sequences it needs).
    init?(environment: [String: String], withFallback: Bool = false) {
        guard let db = chafa_term_db_get_default() else { return nil }
        let entries = environment.map { "\($0.key)=\($0.value)" }
        var cStrings: [UnsafeMutablePointer<CChar>?] = entries.map { strdup($0) }
        cStrings.append(nil)
        defer { for p in cStrings { free(p) } }
        let detected = cStrings.withUnsafeMutableBufferPointer { chafa_term_db_detect(db, $0.baseAddress) }
        guard let detected else { return nil }
        pointer = detected
        if withFallback, let fallback = chafa_term_db_get_fallback_info(db) {
            chafa_term_info_supplement(pointer, fallback)
            chafa_term_info_unref(fallback)
        }
    }

    func has(_ seq: ChafaTermSeq) -> Bool {
        chafa_term_info_have_seq(pointer, seq) != 0
    }

    deinit {
        chafa_term_info_unref(pointer)
    }
}
