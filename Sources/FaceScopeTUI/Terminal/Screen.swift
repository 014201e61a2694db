@preconcurrency import CNCurses
import FaceScopeCore
import Foundation

/// How text is drawn: colours (palette indices, -1 for the terminal's default) and attributes.
struct TextStyle: Equatable {
    var foreground: Int32 = -1
    var background: Int32 = -1
    var bold = false
    var reverse = false
    var dim = false

    static let plain = TextStyle()
    static let bold = TextStyle(bold: true)
    static let dim = TextStyle(dim: true)
    static let reverse = TextStyle(reverse: true)
    static let error = TextStyle(foreground: 1, bold: true)
    static let ok = TextStyle(foreground: 2)
    static let warn = TextStyle(foreground: 3)
    static let accent = TextStyle(foreground: 6)
}

/// The terminal through ncurses: the one owner of the ncurses screen, used from the UI thread
/// only. Text given to it must already be sanitized; it clips everything to the screen.
final class Screen {
    private(set) var columns: Int
    private(set) var rows: Int
    /// How many colours the terminal has (0 without colour support).
    let colors: Int
    /// Whether the locale is UTF-8 (block symbols and box lines can be shown).
    let unicode: Bool
    private var pairs: [Int64: Int32] = [:]
    private var ended = false

    /// Takes over the terminal: raw keys, no echo, no cursor, colours when there are any.
    init(mouse: Bool) {
        setlocale(LC_ALL, "")
        let codeset = String(cString: nl_langinfo(nl_item(CODESET)))
        unicode = codeset.uppercased().replacingOccurrences(of: "-", with: "") == "UTF8"
        set_escdelay(25)
        initscr()
        raw()
        noecho()
        nonl()
        keypad(stdscr, true)
        nodelay(stdscr, true)
        curs_set(0)
        if has_colors() {
            start_color()
            use_default_colors()
            colors = Int(COLORS)
        } else {
            colors = 0
        }
        if mouse {
            mousemask(fs_button1_pressed() | fs_button4_pressed() | fs_button5_pressed(), nil)
            mouseinterval(0)
        }
        columns = Int(getmaxx(stdscr))
        rows = Int(getmaxy(stdscr))
    }

    deinit { end() }

    /// Gives the terminal back as it was.
    func end() {
        guard !ended else { return }
        ended = true
        endwin()
    }

    /// Reads the new size after a resize.
    func updateSize() {
        columns = Int(getmaxx(stdscr))
        rows = Int(getmaxy(stdscr))
    }

    /// The size of one cell in pixels, when the terminal says (TIOCGWINSZ), else a common guess.
    func cellPixels() -> (width: Int, height: Int) {
        var size = winsize()
        if ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_xpixel > 0, size.ws_ypixel > 0,
            size.ws_col > 0, size.ws_row > 0
        {
            return (Int(size.ws_xpixel) / Int(size.ws_col), Int(size.ws_ypixel) / Int(size.ws_row))
        }
        return (10, 20)
    }

    // MARK: - Keys

    /// The next key pressed, nil when none is waiting.
    func readKey() -> Key? {
        var ch: wint_t = 0
        let kind = wget_wch(stdscr, &ch)
        if kind == ERR { return nil }
        if kind == KEY_CODE_YES { return functionKey(Int32(ch)) }
        let value = UInt32(ch)
        switch value {
        case 0x1B: return .escape
        case 0x0D, 0x0A: return .enter
        case 0x7F, 0x08: return .backspace
        case 0x09: return .tab
        case 0x01...0x1A:
            return .ctrl(Character(Unicode.Scalar(value + 0x60) ?? "?"))
        default:
            guard let scalar = Unicode.Scalar(value), value >= 0x20 else { return nil }
            return .character(Character(scalar))
        }
    }

    private func functionKey(_ code: Int32) -> Key? {
        switch code {
        case KEY_UP: return .up
        case KEY_DOWN: return .down
        case KEY_LEFT: return .left
        case KEY_RIGHT: return .right
        case KEY_NPAGE: return .pageDown
        case KEY_PPAGE: return .pageUp
        case KEY_HOME: return .home
        case KEY_END: return .end
        case KEY_ENTER: return .enter
        case KEY_BACKSPACE: return .backspace
        case KEY_BTAB: return .backTab
        case KEY_DC: return .delete
        case KEY_RESIZE: return .resize
        case KEY_MOUSE:
            var event = MEVENT()
            guard getmouse(&event) == OK else { return nil }
            if event.bstate & fs_button4_pressed() != 0 { return .mouse(.wheelUp) }
            if event.bstate & fs_button5_pressed() != 0 { return .mouse(.wheelDown) }
            if event.bstate & fs_button1_pressed() != 0 {
                return .mouse(.click(column: Int(event.x), row: Int(event.y)))
            }
            return nil
        default: return nil
        }
    }

    // MARK: - Drawing

    /// Blanks the whole screen (in memory; the terminal changes on `refresh`).
    func erase() {
        werase(stdscr)
    }

    private func pair(_ foreground: Int32, _ background: Int32) -> Int32 {
        if colors == 0 || (foreground < 0 && background < 0) { return 0 }
        let key = Int64(foreground) << 32 | Int64(UInt32(bitPattern: background))
        if let known = pairs[key] { return known }
        let fg = foreground < Int32(colors) ? foreground : -1
        let bg = background < Int32(colors) ? background : -1
        let made = alloc_pair(fg, bg)
        let value = made < 0 ? 0 : made
        pairs[key] = value
        return value
    }

    private func attributes(_ style: TextStyle) -> attr_t {
        var a: attr_t = 0
        if style.bold { a |= fs_a_bold() }
        if style.reverse { a |= fs_a_reverse() }
        if style.dim { a |= fs_a_dim() }
        return a
    }

    /// Writes `text` (already sanitized) at `x`, `y`, cut to `width` columns (to the screen's
    /// edge when nil); with `fill`, pads with spaces to `width`.
    func text(_ text: String, x: Int, y: Int, width: Int? = nil, style: TextStyle = .plain, fill: Bool = false) {
        guard y >= 0, y < rows, x >= 0, x < columns else { return }
        let room = min(width ?? (columns - x), columns - x)
        guard room > 0 else { return }
        var shown = TerminalText.truncate(text, columns: room)
        if fill { shown = TerminalText.pad(shown, columns: room) }
        var pairNumber = pair(style.foreground, style.background)
        attr_set(attributes(style), Int16(truncatingIfNeeded: pairNumber), &pairNumber)
        var wide = shown.unicodeScalars.map { wchar_t(bitPattern: $0.value) }
        wide.append(0)
        // Writing into the last cell of the screen is fine for ncurses when not scrolling.
        mvaddnwstr(Int32(y), Int32(x), wide, Int32(wide.count - 1))
        var zero: Int32 = 0
        attr_set(0, 0, &zero)
    }

    /// Puts one picture cell at `x`, `y`.
    func cell(_ cell: Cell, x: Int, y: Int) {
        guard y >= 0, y < rows, x >= 0, x < columns else { return }
        var pairNumber = pair(cell.foreground, cell.background)
        var cc = cchar_t()
        var wide: [wchar_t] = [wchar_t(bitPattern: cell.character.value), 0]
        setcchar(&cc, &wide, 0, Int16(truncatingIfNeeded: pairNumber), &pairNumber)
        mvadd_wch(Int32(y), Int32(x), &cc)
    }

    /// Sends what changed to the terminal.
    func refresh() {
        wnoutrefresh(stdscr)
        doupdate()
    }

    /// Makes the next `refresh` repaint every cell (the terminal may hold something else).
    func invalidate() {
        clearok(curscr, true)
    }

    /// Makes the next `refresh` repaint these rows whole (a pixel picture was drawn over them).
    func invalidate(rows first: Int, count: Int) {
        wredrawln(stdscr, Int32(first), Int32(count))
    }

    /// Writes bytes straight to the terminal (a pixel picture) after the last `refresh`, then
    /// puts the cursor back where ncurses believes it is.
    func writeRaw(_ bytes: String) {
        let restore = "\u{1B}[\(getcury(curscr) + 1);\(getcurx(curscr) + 1)H"
        var data = Array(bytes.utf8) + Array(restore.utf8)
        var offset = 0
        while offset < data.count {
            let n = data.withUnsafeMutableBytes {
                write(STDOUT_FILENO, $0.baseAddress?.advanced(by: offset), $0.count - offset)
            }
            if n <= 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                break
            }
            offset += n
        }
        data.removeAll()
    }
}
