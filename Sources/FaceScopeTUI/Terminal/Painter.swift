import FaceScopeCore
import FaceScopeRedis
import Foundation

/// Draws the browser's state on the screen: the views. Every piece of untrusted text
/// (filenames, server messages) goes through `TerminalText.sanitize` here, right before it is
/// drawn.
struct Painter {
    let screen: Screen
    /// The graphics mode's name for the status line.
    let graphics: GraphicsMode

    private var line: String { screen.unicode ? "│" : "|" }
    private var horizontal: String { screen.unicode ? "─" : "-" }

    func paint(_ b: Browser, now: Double) {
        screen.erase()
        let layout = b.layout
        if layout.tooSmall {
            screen.text(
                "terminal too small: FaceScope needs \(ScreenLayout.minimumColumns)x\(ScreenLayout.minimumRows) (q quits)",
                x: 0, y: 0, style: .warn)
            return
        }
        header(b)
        if b.view == .faces {
            faceGrid(b)
        } else {
            if let list = layout.list { self.list(b, in: list) }
            if let separator = layout.separator, let list = layout.list {
                for y in list.y..<(list.y + list.height) { screen.text(line, x: separator, y: y, style: .dim) }
            }
            if layout.preview != nil { preview(b) }
        }
        if let panel = layout.panel, let run = b.detection { progress(run, in: panel, now: now) }
        promptLine(b)
        statusLine(b)
        if let scroll = b.helpScroll { help(b, scroll: scroll) }
    }

    // MARK: - Header and list

    private func header(_ b: Browser) {
        var left = " FaceScope"
        switch b.source {
        case .all(let order, let descending):
            left += "  ·  sorted by \(order == .filename ? "filename" : "face count") \(descending ? "↓" : "↑")"
        case .search:
            left += "  ·  search \"\(TerminalText.sanitize(b.search.text))\""
        case .person(let label):
            var name: String?
            if case .person(let person)? = b.scope { name = person.name }
            left += "  ·  " + Self.personTitle(label: label, name: name) + " (Esc back to the people)"
        case .image(let filename):
            left += "  ·  \(TerminalText.sanitize(filename)) (more like this)"
        }
        switch b.view {
        case .people: left = " FaceScope  ·  people" + Self.filterSummary(b.peopleFilter)
        case .similar: left = " FaceScope  ·  more like this"
        case .suggestions: left = " FaceScope  ·  merge suggestions (people whose faces are close)"
        case .faces:
            left = " FaceScope  ·  faces of "
            if let person = b.faceGrid.person {
                left += Self.personTitle(label: person.label, name: person.name) + " (Esc back to the people)"
            }
        case .browse, .detail: break
        }
        if b.zoomed { left += "  ·  zoomed (z)" }
        if case .detail(let face) = b.view, let count = b.list.current?.faceCount {
            left += "  ·  face \(face + 1) of \(count)"
        }
        let right = "? help  q quit "
        screen.text(left, x: 0, y: 0, width: b.layout.columns, style: .reverse, fill: true)
        let rightWidth = TerminalText.width(right)
        if b.layout.columns - rightWidth > TerminalText.width(left) + 2 {
            screen.text(right, x: b.layout.columns - rightWidth, y: 0, style: .reverse)
        }
    }

    /// "2 · Joe Biden" (the label and its name, when it has one), or "-" without a label.
    static func labelText(_ label: Int?, names: [Int: String]) -> String {
        guard let label else { return "-" }
        guard let name = names[label], !name.isEmpty else { return String(label) }
        return "\(label) · \(name)"
    }

    /// What the people filter leaves out, for the header ("" when nothing).
    static func filterSummary(_ filter: PeopleFilter) -> String {
        var parts: [String] = []
        if !filter.text.isEmpty { parts.append("name \"\(TerminalText.sanitize(filter.text))\"") }
        if filter.unnamedOnly { parts.append("unnamed only (u)") }
        if filter.minimumFaces > 1 { parts.append("\(filter.minimumFaces)+ faces (1)") }
        return parts.isEmpty ? "  ·  most faces first" : "  ·  " + parts.joined(separator: " · ")
    }

    /// "person 3 "Ann"", the name sanitized.
    static func personTitle(label: Int, name: String?) -> String {
        "person \(label)" + (name.map { " \"\(TerminalText.sanitize($0))\"" } ?? "")
    }

    private func list(_ b: Browser, in rect: Rect) {
        switch b.view {
        case .people:
            peopleList(b, in: rect)
            return
        case .similar:
            similarList(b, in: rect)
            return
        case .suggestions:
            suggestionsList(b, in: rect)
            return
        case .faces:
            return
        case .browse, .detail:
            break
        }
        let layout = b.layout
        let head =
            "  " + TerminalText.pad("FILENAME", columns: layout.filenameWidth) + " " + "FACES"
            + (layout.showsSize ? " " + TerminalText.pad("SIZE", columns: 11) : "")
        screen.text(head, x: rect.x, y: rect.y, width: rect.width, style: .bold, fill: true)
        guard let total = b.list.total else {
            let text = b.redis.isDown ? "waiting for Redis…" : "loading…"
            screen.text("  " + text, x: rect.x, y: rect.y + 1, width: rect.width, style: .dim)
            return
        }
        if total == 0 {
            let text =
                b.searchTooShort
                ? "type 2+ characters: filenames are searched by word starts"
                : b.search.query != nil
                    ? "no match for \"\(TerminalText.sanitize(b.search.text))\""
                    : "no images stored yet (facescope detect PATH stores some)"
            screen.text("  " + text, x: rect.x, y: rect.y + 1, width: rect.width, style: .warn)
            return
        }
        let visible = (0..<layout.listRows).map { b.list.row(at: b.list.top + $0) }
        let shortNames = NameShortener.shortenAll(
            visible.map { TerminalText.sanitize($0?.filename ?? "") }, columns: layout.filenameWidth)
        for i in 0..<layout.listRows {
            let index = b.list.top + i
            if index >= total { break }
            let y = rect.y + 1 + i
            guard let doc = b.list.row(at: index) else {
                screen.text("  …", x: rect.x, y: y, width: rect.width, style: .dim)
                continue
            }
            let selected = b.selection.contains(doc.pk)
            let gone = b.files.isMissing(doc.filename)
            let mark = selected ? (screen.unicode ? "● " : "* ") : gone ? (screen.unicode ? "✗ " : "x ") : "  "
            let faces = doc.faces == nil ? "-" : String(doc.faceCount)
            let size = "\(doc.width.map(String.init) ?? "?")x\(doc.height.map(String.init) ?? "?")"
            let text =
                mark + TerminalText.pad(shortNames[i], columns: layout.filenameWidth) + " "
                + String(repeating: " ", count: max(0, 5 - faces.count)) + faces
                + (layout.showsSize ? " " + TerminalText.pad(size, columns: 11) : "")
            var style = TextStyle.plain
            if selected { style = .warn } else if gone { style = .dim }
            if index == b.list.cursor { style.reverse = true }
            screen.text(text, x: rect.x, y: y, width: rect.width, style: style, fill: true)
        }
    }

    private func peopleList(_ b: Browser, in rect: Rect) {
        screen.text("  LABEL  FACES  NAME", x: rect.x, y: rect.y, width: rect.width, style: .bold, fill: true)
        if let error = b.peopleError {
            screen.text(
                "  cannot read the people: " + TerminalText.sanitize(error), x: rect.x, y: rect.y + 1,
                width: rect.width, style: .error)
            return
        }
        guard let total = b.people.total else {
            screen.text("  loading…", x: rect.x, y: rect.y + 1, width: rect.width, style: .dim)
            return
        }
        if total == 0 {
            let text =
                b.peopleFilter.isActive && !(b.allPeople ?? []).isEmpty
                ? "  nobody matches the filter (Esc clears the name, u and 1 toggle)"
                : "  no people yet: 'facescope cluster' groups the faces"
            screen.text(text, x: rect.x, y: rect.y + 1, width: rect.width, style: .warn)
            return
        }
        for i in 0..<b.layout.listRows {
            let index = b.people.top + i
            guard index < total, let person = b.people.row(at: index) else { break }
            let text =
                "  " + Self.rightAligned(String(person.label), 5) + "  " + Self.rightAligned(String(person.faces), 5)
                + "  " + TerminalText.sanitize(person.name ?? "-")
            var style = TextStyle.plain
            if index == b.people.cursor { style.reverse = true }
            screen.text(text, x: rect.x, y: rect.y + 1 + i, width: rect.width, style: style, fill: true)
        }
    }

    private func suggestionsList(_ b: Browser, in rect: Rect) {
        screen.text("  DIST   PEOPLE (faces)", x: rect.x, y: rect.y, width: rect.width, style: .bold, fill: true)
        let view = b.suggestionsView
        if let error = view.error {
            screen.text(
                "  cannot compare the people: " + TerminalText.sanitize(error), x: rect.x, y: rect.y + 1,
                width: rect.width, style: .error)
            return
        }
        guard let total = view.list.total, let found = view.found else {
            screen.text("  comparing…", x: rect.x, y: rect.y + 1, width: rect.width, style: .dim)
            return
        }
        if total == 0 {
            let text =
                found.pairs.isEmpty
                ? "  no two people are closer than \(String(format: "%.2f", Double(found.threshold)))"
                : "  every suggestion was skipped (s in the people view asks again)"
            screen.text(text, x: rect.x, y: rect.y + 1, width: rect.width, style: .warn)
            return
        }
        func who(_ person: Person) -> String {
            Self.personTitle(label: person.label, name: person.name) + " (\(person.faces))"
        }
        for i in 0..<b.layout.listRows {
            let index = view.list.top + i
            guard index < total, let pair = view.list.row(at: index) else { break }
            let text =
                "  " + Self.rightAligned(String(format: "%.3f", Double(pair.distance)), 5) + "  " + who(pair.second)
                + " → " + who(pair.first)
            var style = TextStyle.plain
            if index == view.list.cursor { style.reverse = true }
            screen.text(text, x: rect.x, y: rect.y + 1 + i, width: rect.width, style: style, fill: true)
        }
    }

    private func similarList(_ b: Browser, in rect: Rect) {
        screen.text("  DIST   FACE  IMAGE", x: rect.x, y: rect.y, width: rect.width, style: .bold, fill: true)
        if let error = b.similarError {
            screen.text(
                "  the search failed: " + TerminalText.sanitize(error), x: rect.x, y: rect.y + 1, width: rect.width,
                style: .error)
            return
        }
        guard let total = b.similar.total else {
            screen.text("  searching…", x: rect.x, y: rect.y + 1, width: rect.width, style: .dim)
            return
        }
        if total == 0 {
            screen.text(
                "  no other face has a descriptor", x: rect.x, y: rect.y + 1, width: rect.width, style: .warn)
            return
        }
        for i in 0..<b.layout.listRows {
            let index = b.similar.top + i
            guard index < total, let found = b.similar.row(at: index) else { break }
            let text =
                "  " + Self.rightAligned(String(format: "%.3f", Double(found.distance)), 5) + "  "
                + Self.rightAligned("#\(found.stored.faceIndex + 1)", 4) + "  "
                + TerminalText.sanitize(found.stored.filename)
            var style = TextStyle.plain
            if index == b.similar.cursor { style.reverse = true }
            screen.text(text, x: rect.x, y: rect.y + 1 + i, width: rect.width, style: style, fill: true)
        }
    }

    private static func rightAligned(_ text: String, _ width: Int) -> String {
        String(repeating: " ", count: max(0, width - text.count)) + text
    }

    // MARK: - Preview

    private func preview(_ b: Browser) {
        let layout = b.layout
        guard let titleRect = layout.previewTitle, let image = layout.image, let info = layout.info else { return }
        if b.view == .people || b.view == .similar || b.view == .suggestions {
            facePreview(b, title: titleRect, image: image, info: info)
            return
        }
        guard let doc = b.list.current else {
            if b.list.total == 0 {
                screen.text(" nothing to preview", x: titleRect.x, y: titleRect.y, style: .dim)
            }
            return
        }
        let size =
            "\(doc.width.map(String.init) ?? "?")×\(doc.height.map(String.init) ?? "?")"
            + (b.files.isMissing(doc.filename) ? " · file missing" : "")
        screen.text(
            " " + TerminalText.sanitize(doc.filename), x: titleRect.x, y: titleRect.y,
            width: max(1, titleRect.width - TerminalText.width(size) - 2), style: .bold)
        screen.text(
            size + " ", x: titleRect.x + titleRect.width - TerminalText.width(size) - 1, y: titleRect.y, style: .dim)

        picture(b, in: image)

        if let face = b.focusedFace, let faces = doc.faces, face < faces.count {
            detailInfo(faces[face], index: face, count: faces.count, in: info, b: b)
        } else {
            let count = doc.faces == nil ? "not detected yet" : "\(doc.faceCount) face\(doc.faceCount == 1 ? "" : "s")"
            let text =
                " \(count) · boxes \(b.showBoxes ? "on" : "off") (b) · landmarks \(b.showLandmarks ? "on" : "off") (m)"
                + (doc.faceCount > 0 ? " · Enter zooms on faces" : "")
            screen.text(text, x: info.x, y: info.y, width: info.width, style: .dim)
        }
    }

    /// The rendered picture (or why there is none) in the image area.
    private func picture(_ b: Browser, in image: Rect) {
        switch b.preview.content {
        case .cells(let grid)?:
            let x0 = image.x + max(0, (image.width - grid.width) / 2)
            let y0 = image.y + max(0, (image.height - grid.height) / 2)
            for row in 0..<min(grid.height, image.height) {
                for column in 0..<min(grid.width, image.width) {
                    screen.cell(grid[column, row], x: x0 + column, y: y0 + row)
                }
            }
        case .message(let text)?:
            screen.text(
                " " + TerminalText.sanitize(text), x: image.x, y: image.y + image.height / 2, width: image.width,
                style: .warn)
        case .pixels?:
            break  // written after the refresh, straight to the terminal
        case nil:
            screen.text(" rendering…", x: image.x, y: image.y + image.height / 2, style: .dim)
        }
    }

    /// The face grid: a cell per face on screen, its thumbnail and a caption (its number among the
    /// person's faces, the image's filename); the selected one marked.
    private func faceGrid(_ b: Browser) {
        let grid = b.faceGrid
        let geometry = grid.geometry
        let area = geometry.area
        if let error = grid.error {
            screen.text(
                "  cannot read the faces: " + TerminalText.sanitize(error), x: area.x, y: area.y, width: area.width,
                style: .error)
            return
        }
        guard let total = grid.list.total else {
            screen.text("  reading the faces…", x: area.x, y: area.y, width: area.width, style: .dim)
            return
        }
        if total == 0 {
            screen.text(
                "  this person has no faces now (Esc back to the people)", x: area.x, y: area.y, width: area.width,
                style: .warn)
            return
        }
        let marker = screen.unicode ? "▸ " : "> "
        for (slot, index) in grid.shown.enumerated() {
            let rect = geometry.cell(slot)
            guard let document = grid.list.row(at: index) else {
                screen.text(" …", x: rect.x, y: rect.y, style: .dim)
                continue
            }
            let picture = Rect(
                x: rect.x + 1, y: rect.y, width: geometry.pictureWidth, height: geometry.pictureHeight)
            if let face = grid.faceIndex(in: document) {
                switch grid.thumbnails[grid.thumbnailKey(document, face: face)] {
                case .cells(let cells)?:
                    let x0 = picture.x + max(0, (picture.width - cells.width) / 2)
                    let y0 = picture.y + max(0, (picture.height - cells.height) / 2)
                    for row in 0..<min(cells.height, picture.height) {
                        for column in 0..<min(cells.width, picture.width) {
                            screen.cell(cells[column, row], x: x0 + column, y: y0 + row)
                        }
                    }
                case .message(let text)?:
                    screen.text(
                        " " + TerminalText.sanitize(text), x: picture.x, y: picture.y + picture.height / 2,
                        width: picture.width, style: .warn)
                case .pixels?, nil:
                    screen.text(
                        " rendering…", x: picture.x, y: picture.y + picture.height / 2, width: picture.width,
                        style: .dim)
                }
            }
            let selected = index == grid.list.cursor
            let width = max(1, rect.width - 1)
            // One cell per image: more faces of the person in it are counted in the caption.
            let label = grid.person?.label
            let here = (document.faces ?? []).filter { $0.label == label && label != nil }.count
            let caption =
                (selected ? marker : "  ") + "\(index + 1) of \(total)" + (here > 1 ? "  +\(here - 1) here" : "")
            let name = NameShortener.shorten(TerminalText.sanitize(document.filename), columns: max(1, width - 2))
            var style = selected ? TextStyle.reverse : TextStyle.bold
            screen.text(caption, x: rect.x, y: rect.y + rect.height - 2, width: width, style: style, fill: true)
            style = selected ? TextStyle.reverse : TextStyle.dim
            screen.text("  " + name, x: rect.x, y: rect.y + rect.height - 1, width: width, style: style, fill: true)
        }
    }

    /// The people and similar views' preview: a face cut from its image, and what it is.
    private func facePreview(_ b: Browser, title: Rect, image: Rect, info: Rect) {
        guard let (doc, _) = b.previewSubject else { return }
        screen.text(" " + TerminalText.sanitize(doc.filename), x: title.x, y: title.y, width: title.width, style: .bold)
        picture(b, in: image)
        var text: String
        if b.view == .people, let person = b.people.current {
            text =
                " " + Self.personTitle(label: person.label, name: person.name)
                + " · \(person.faces) face\(person.faces == 1 ? "" : "s") · Enter lists the images · f faces · e rename · M merge · s suggestions"
        } else if b.view == .suggestions, let pair = b.suggestionsView.list.current {
            text =
                " " + Self.personTitle(label: pair.first.label, name: pair.first.name)
                + " · Enter merges \(Self.personTitle(label: pair.second.label, name: pair.second.name)) into it · d skips"
        } else if let found = b.similar.current {
            text =
                " face \(found.stored.faceIndex + 1) · probability \(found.stored.face.probabilityText) · distance \(String(format: "%.3f", Double(found.distance)))"
                + " · label \(Self.labelText(found.stored.face.label, names: b.names)) · Enter shows the image"
        } else {
            text = ""
        }
        screen.text(text, x: info.x, y: info.y, width: info.width, style: .dim)
    }

    private func detailInfo(_ face: Face, index: Int, count: Int, in rect: Rect, b: Browser) {
        var lines: [(String, TextStyle)] = []
        let box = face.bbox
        lines.append(
            (
                " Face \(index + 1) of \(count)   (n / N or ← → for the others, v move, x not this person, Esc back)",
                .bold
            ))
        lines.append(
            (
                " probability \(face.probabilityText)   rotation \(face.rotation.map { "\($0)°" } ?? "-")   label \(Self.labelText(face.label, names: b.names))   box (\(box.x1),\(box.y1))-(\(box.x2),\(box.y2)) \(box.x2 &- box.x1)×\(box.y2 &- box.y1)",
                .plain
            ))
        var counts: [LandmarkRegion: Int] = [:]
        if let descriptors = face.descriptors, let points = try? FaceLandmarks.points(fromDescriptors: descriptors) {
            for point in points { if let region = point.region { counts[region, default: 0] += 1 } }
        }
        let total = counts.values.reduce(0, +)
        lines.append((" landmarks: \(total == 0 ? "none stored" : "\(total) points")", .plain))
        var regionLine: [(String, Int32)] = []
        for region in LandmarkRegion.allCases {
            regionLine.append(
                ("\(region.rawValue) \(counts[region] ?? 0)", Self.paletteIndex(FaceOverlay.color(of: region))))
        }
        for (i, (text, style)) in lines.enumerated() where i < rect.height {
            screen.text(TerminalText.sanitize(text), x: rect.x, y: rect.y + i, width: rect.width, style: style)
        }
        // Region names in their landmark colours, wrapped over the remaining rows.
        var x = rect.x + 1
        var y = rect.y + lines.count
        for (text, color) in regionLine {
            let width = TerminalText.width(text) + 3
            if x + width > rect.x + rect.width {
                x = rect.x + 1
                y += 1
            }
            if y >= rect.y + rect.height { break }
            screen.text("■ ", x: x, y: y, style: TextStyle(foreground: color))
            screen.text(text, x: x + 2, y: y)
            x += width
        }
    }

    /// The xterm 256-colour palette entry nearest to a colour of the 6x6x6 cube.
    static func paletteIndex(_ c: RGB) -> Int32 {
        func level(_ v: UInt8) -> Int32 {
            let steps: [Int32] = [0, 95, 135, 175, 215, 255]
            var best: Int32 = 0
            for (i, s) in steps.enumerated() where abs(s - Int32(v)) < abs(steps[Int(best)] - Int32(v)) {
                best = Int32(i)
            }
            return best
        }
        return 16 + 36 * level(c.r) + 6 * level(c.g) + level(c.b)
    }

    // MARK: - Progress panel

    private func progress(_ run: DetectionProgress, in rect: Rect, now: Double) {
        let modeText = run.mode == .keepLabels ? "keeping labels of overlapping faces" : "replacing faces"
        let title = run.running ? " Re-detecting through Triton (\(modeText)) " : " Re-detection finished "
        let border = String(repeating: horizontal, count: max(0, rect.width))
        screen.text(border, x: rect.x, y: rect.y, style: .dim)
        screen.text(title, x: rect.x + 2, y: rect.y, style: .bold)
        let total = run.total.map(String.init) ?? "?"
        let rate = String(format: "%.1f", run.rate(now: now))
        var first =
            " \(run.done)/\(total) images · \(rate) images/s · \(run.faces) face\(run.faces == 1 ? "" : "s")"
            + " · \(run.failed) failed"
        if run.running {
            first += run.cancelling ? " · cancelling after the images in flight…" : " · c cancels"
        } else {
            let seconds = String(format: "%.1f", (run.finishedAt ?? now) - run.startedAt)
            first += " · \(seconds) s" + (run.cancelled ? " · cancelled" : "") + " · c closes"
        }
        screen.text(first, x: rect.x, y: rect.y + 1, width: rect.width)
        // A bar as wide as the panel.
        let width = max(1, rect.width - 4)
        let fraction = run.total.map { $0 > 0 ? Double(run.done) / Double($0) : 1 } ?? 0
        let filled = min(width, Int(Double(width) * fraction))
        let bar =
            String(repeating: screen.unicode ? "█" : "#", count: filled)
            + String(repeating: screen.unicode ? "░" : ".", count: width - filled)
        screen.text(" " + bar, x: rect.x, y: rect.y + 2, style: .ok)
        if let current = run.current {
            screen.text(
                " last: " + TerminalText.sanitize(current), x: rect.x, y: rect.y + 3, width: rect.width, style: .dim)
        }
        var y = rect.y + 4
        if let fatal = run.fatal {
            screen.text(" error: " + TerminalText.sanitize(fatal), x: rect.x, y: y, width: rect.width, style: .error)
            y += 1
        }
        for error in run.errors.suffix(max(0, rect.y + rect.height - y)) {
            screen.text(" " + TerminalText.sanitize(error), x: rect.x, y: y, width: rect.width, style: .error)
            y += 1
        }
    }

    // MARK: - Prompt and status

    private func promptLine(_ b: Browser) {
        let y = b.layout.prompt.y
        let width = b.layout.columns
        switch b.prompt {
        case .redetect(_, _, let what, let labels)?:
            let dropped =
                switch labels {
                case 0?: "no labels to drop"
                case let n?: "dropping \(n) label\(n == 1 ? "" : "s")"
                case nil: "dropping their labels"
                }
            let text =
                " Re-detect \(TerminalText.sanitize(what)) through Triton?  Enter keep the people · "
                + "r replace the faces, \(dropped) · Esc cancel"
            screen.text(text, x: 0, y: y, width: width, style: .warn, fill: true)
            return
        case .merge(_, _, let what)?:
            let text = " Merge \(TerminalText.sanitize(what))?  y merge · Esc cancel"
            screen.text(text, x: 0, y: y, width: width, style: .warn, fill: true)
            return
        case .rename(let label, let line)?:
            lineEditor(
                "Name for person \(label): ", line, hint: "Enter saves · empty removes the name · Esc cancels", y: y)
            return
        case .mergeTarget(let label, let line)?:
            lineEditor("Merge person \(label) into label: ", line, hint: "Enter asks to confirm · Esc cancels", y: y)
            return
        case .moveFace(let face, let line)?:
            lineEditor(
                "Move face \(face.faceIndex + 1) of \(TerminalText.sanitize(face.filename)) to person (label or name): ",
                line, hint: "Enter moves · Esc cancels", y: y)
            return
        case nil:
            break
        }
        if b.context == .peopleFilter {
            let shown = b.people.total ?? 0
            let all = b.allPeople?.count ?? 0
            lineEditor(
                "/", b.peopleFilter.text, hint: "\(shown) of \(all) people · Enter keeps · Esc clears", y: y)
            return
        }
        if b.search.editing {
            let query = "/" + TerminalText.sanitize(b.search.text)
            screen.text(query, x: 0, y: y, style: .bold)
            let cursorX = TerminalText.width(query)
            screen.text(screen.unicode ? "▏" : "_", x: cursorX, y: y, style: .accent)
            screen.text(searchSummary(b), x: cursorX + 3, y: y, style: b.searchFoundNothing ? .error : .dim)
            return
        }
        if let message = b.message {
            screen.text(
                " " + TerminalText.sanitize(message.text), x: 0, y: y, width: width,
                style: message.isError ? .error : .plain)
            return
        }
        if b.search.query != nil {
            let text = " search \"\(TerminalText.sanitize(b.search.text))\": \(searchSummary(b))"
            screen.text(text, x: 0, y: y, width: width, style: b.searchFoundNothing ? .error : .dim)
        }
    }

    /// A prompt, the text typed (sanitized) and a cursor, then a hint.
    private func lineEditor(_ label: String, _ line: String, hint: String, y: Int) {
        let text = label + TerminalText.sanitize(line)
        screen.text(text, x: 0, y: y, style: .bold)
        let cursorX = TerminalText.width(text)
        screen.text(screen.unicode ? "▏" : "_", x: cursorX, y: y, style: .accent)
        screen.text(hint, x: cursorX + 3, y: y, style: .dim)
    }

    private func searchSummary(_ b: Browser) -> String {
        guard b.search.query != nil else { return "type to search filenames · Enter keeps · Esc clears" }
        guard let total = b.list.total else { return "searching…" }
        if total == 0, b.searchTooShort { return "type 2+ characters" }
        if total == 0 { return "no match for \"\(TerminalText.sanitize(b.search.text))\"" }
        if b.searchCloseMatches { return "no exact match; \(total) close match\(total == 1 ? "" : "es") · Esc clears" }
        return "\(total) match\(total == 1 ? "" : "es") · n / N move · Esc clears"
    }

    private func statusLine(_ b: Browser) {
        let y = b.layout.status.y
        var x = 0
        func part(_ text: String, _ style: TextStyle) {
            guard x < b.layout.columns else { return }
            screen.text(text, x: x, y: y, style: style)
            x += TerminalText.width(text)
        }
        screen.text("", x: 0, y: y, width: b.layout.columns, fill: true)
        switch b.redis {
        case .up: part(" Redis ok", .ok)
        case .down(let why): part(" Redis DOWN, retrying: \(TerminalText.sanitize(why))", .error)
        case .connecting, .unknown: part(" Redis …", .dim)
        }
        part(" · ", .dim)
        if !b.tritonConfigured {
            part("Triton off", .dim)
        } else {
            switch b.triton {
            case .up: part("Triton ok", .ok)
            case .down(let why): part("Triton DOWN: \(TerminalText.sanitize(why))", .error)
            case .connecting, .unknown: part("Triton …", .dim)
            }
        }
        var rest: String
        switch b.view {
        case .people:
            // The people view's own counts: who is shown, of how many.
            let all = b.allPeople?.count
            rest = " · " + (all.map { "\($0) people" } ?? "? people")
            if let shown = b.people.total, b.peopleFilter.isActive { rest += " · \(shown) shown" }
            if let shown = b.people.total, shown > 0 { rest += " · \(b.people.cursor + 1)/\(shown)" }
        case .suggestions:
            let view = b.suggestionsView
            if let found = view.found, let shown = view.list.total {
                rest = " · \(shown) pair\(shown == 1 ? "" : "s") · \(found.compared) of \(found.people) people compared"
                if shown > 0 { rest += " · \(view.list.cursor + 1)/\(shown)" }
            } else {
                rest = " · comparing"
            }
        case .faces:
            let list = b.faceGrid.list
            rest = " · " + (list.total.map { "\($0) image\($0 == 1 ? "" : "s") of the person" } ?? "reading the faces")
            if let total = list.total, total > 0 { rest += " · \(list.cursor + 1)/\(total)" }
        case .similar:
            rest = " · " + (b.similar.total.map { "\($0) similar faces" } ?? "searching")
            if let total = b.similar.total, total > 0 { rest += " · \(b.similar.cursor + 1)/\(total)" }
        case .browse, .detail:
            let stored = b.collectionSize.map { "\($0) images" } ?? "? images"
            rest = " · \(stored)"
            if let total = b.list.total, b.search.query != nil { rest += " · \(total) matching" }
            let selected = b.selection.count(total: b.list.total ?? 0)
            if selected > 0 { rest += " · \(selected) selected" }
            if let total = b.list.total, total > 0 { rest += " · \(b.list.cursor + 1)/\(total)" }
        }
        if let queue = b.queueProgress { rest += " · \(queue)" }
        rest += " · \(graphics.rawValue)"
        part(rest, .plain)
    }

    // MARK: - Help

    private func help(_ b: Browser, scroll: Int) {
        let columns = b.layout.columns
        let rows = b.layout.rows
        let width = min(columns - 2, 92)
        let height = rows - 2
        let x0 = (columns - width) / 2
        let y0 = 1
        let lines = b.keymap.helpText(width: width - 4)
        let visible = max(1, height - 2)
        let first = min(max(0, scroll), max(0, lines.count - visible))
        screen.text("", x: x0, y: y0, width: width, style: .reverse, fill: true)
        screen.text(
            " Keys (from the keymap) · j/k scroll · Esc closes", x: x0, y: y0, width: width, style: .reverse)
        for i in 0..<visible {
            let y = y0 + 1 + i
            let text = first + i < lines.count ? lines[first + i] : ""
            let isHeading = !text.hasPrefix(" ") && !text.isEmpty
            screen.text("  " + text, x: x0, y: y, width: width, style: isHeading ? .bold : .plain, fill: true)
        }
        screen.text("", x: x0, y: y0 + height - 1, width: width, style: .reverse, fill: true)
    }
}
