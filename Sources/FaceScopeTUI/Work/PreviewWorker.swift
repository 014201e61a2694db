import FaceScopeCore
import FaceScopeImaging
import FaceScopePipeline
import Foundation

/// Renders previews on a thread of its own: decode at reduced scale, draw boxes and landmarks
/// into the pixels, hand the picture to the graphics mode's renderer. Only the newest request
/// is rendered; the last decode is kept so toggling boxes or landmarks does not decode again.
///
/// Unchecked: the decoded-image cache is confined to the worker's serial queue (read and written
/// only in blocks run on `queue`); every other stored property is a constant.
final class PreviewWorker: @unchecked Sendable {
    private let queue = DispatchQueue(label: "facescope.tui.preview", qos: .userInitiated)
    private let renderer: any PictureRenderer
    /// Face thumbnails are drawn in symbols (many small pictures in cells), whatever the mode.
    private let thumbnailRenderer: any PictureRenderer
    private let thumbnailQueue = DispatchQueue(label: "facescope.tui.thumbnails", qos: .userInitiated)
    private let latestThumbnails = LatestRequest<UInt64>()
    private let imagesRoot: String
    private let maxPixels: Int
    private let mailbox: Mailbox
    private let timings: Timings
    private let latest = LatestRequest<UInt64>()
    /// Touched on `queue` only.
    private var cache: (path: String, width: Int, height: Int, image: DecodedImage)?

    init(
        renderer: any PictureRenderer, thumbnailRenderer: any PictureRenderer, imagesRoot: String, maxPixels: Int,
        mailbox: Mailbox, timings: Timings
    ) {
        self.renderer = renderer
        self.thumbnailRenderer = thumbnailRenderer
        self.imagesRoot = imagesRoot
        self.maxPixels = maxPixels
        self.mailbox = mailbox
        self.timings = timings
    }

    func render(_ request: PreviewRequest) {
        latest.set(request.token)
        queue.async { [self] in
            guard latest.isLatest(request.token) else { return }
            let started = Timings.now()
            let content = PreviewBuilder(
                renderer: renderer, imagesRoot: imagesRoot, maxPixels: maxPixels,
                decode: { path, width, height throws(ImageError) in
                    try self.decodeCached(path: path, width: width, height: height)
                }
            ).content(for: request)
            timings.event(
                "preview_rendered",
                ["ms": (Timings.now() - started) * 1000, "token": Double(request.token)])
            mailbox.post(.preview(token: request.token, content: content))
        }
    }

    /// Renders face thumbnails one by one, each posted as it is done; a newer batch stops this one.
    func renderThumbnails(_ request: ThumbnailRequest) {
        latestThumbnails.set(request.token)
        thumbnailQueue.async { [self] in
            let builder = PreviewBuilder(
                renderer: thumbnailRenderer, imagesRoot: imagesRoot, maxPixels: maxPixels,
                decode: { path, width, height throws(ImageError) in
                    try ImageDecoder.decodeScaled(
                        path: path, maxWidth: width, maxHeight: height, maxPixels: self.maxPixels)
                })
            for item in request.items {
                guard latestThumbnails.isLatest(request.token) else { return }
                let content = builder.content(
                    for: PreviewRequest(
                        token: request.token, document: item.document,
                        area: Rect(x: 0, y: 0, width: item.columns, height: item.rows), boxes: false, landmarks: false,
                        focus: item.face))
                mailbox.post(.thumbnail(token: request.token, key: item.key, content: content))
            }
        }
    }

    private func decodeCached(path: String, width: Int, height: Int) throws(ImageError) -> DecodedImage {
        if let cache, cache.path == path, cache.width == width, cache.height == height { return cache.image }
        let started = Timings.now()
        let image = try ImageDecoder.decodeScaled(path: path, maxWidth: width, maxHeight: height, maxPixels: maxPixels)
        timings.event("preview_decoded", ["ms": (Timings.now() - started) * 1000])
        cache = (path, width, height, image)
        return image
    }
}

/// Turns a preview request into what the preview area shows.
struct PreviewBuilder {
    let renderer: any PictureRenderer
    let imagesRoot: String
    let maxPixels: Int
    let decode: (String, Int, Int) throws(ImageError) -> DecodedImage

    func content(for request: PreviewRequest) -> PreviewContent {
        let doc = request.document
        let path = ImageFiles.path(of: doc.filename, imagesRoot: imagesRoot)
        do throws(ImageError) {
            var imageWidth = doc.width ?? 0
            var imageHeight = doc.height ?? 0
            // Stored sizes are untrusted: anything implausible is read from the file instead.
            let plausible = 1...1_000_000
            if !plausible.contains(imageWidth) || !plausible.contains(imageHeight) {
                let size = try ImageDecoder.readSize(path: path)
                (imageWidth, imageHeight) = (size.width, size.height)
            }
            let cell = renderer.cellPixels
            let cellAspect = Double(cell.height) / Double(cell.width)
            let faces = doc.faces ?? []
            if let focus = request.focus, focus < faces.count {
                return try detail(
                    request, path: path, faces: faces, focus: focus, imageWidth: imageWidth, imageHeight: imageHeight,
                    cellAspect: cellAspect)
            }
            let cells = ScreenLayout.fit(
                imageWidth: imageWidth, imageHeight: imageHeight, into: request.area, cellAspect: cellAspect)
            guard !cells.isEmpty else { return .message("no room for the picture") }
            let image = try decode(path, cells.width * cell.width, cells.height * cell.height)
            var pixels = image.pixels
            let mapping = FaceOverlay.Mapping(
                crop: (0, 0, Double(imageWidth), Double(imageHeight)), width: image.width, height: image.height)
            let style = OverlayStyle.forCells(
                cellWidth: Double(image.width) / Double(cells.width),
                cellHeight: Double(image.height) / Double(cells.height), symbols: renderer.mode == .symbols)
            FaceOverlay.draw(
                faces, into: &pixels, mapping: mapping, style: style, boxes: request.boxes, landmarks: request.landmarks
            )
            let picture = RGBPicture(width: image.width, height: image.height, pixels: pixels)
            return tagged(
                renderer.render(picture, columns: cells.width, rows: cells.height), request: request, faces: faces,
                mapping: mapping)
        } catch {
            return .message(
                "cannot show this image: \(error.description) (images folder \(ImageFiles.canonical(imagesRoot)))")
        }
    }

    private func detail(
        _ request: PreviewRequest, path: String, faces: [Face], focus: Int, imageWidth: Int, imageHeight: Int,
        cellAspect: Double
    ) throws(ImageError) -> PreviewContent {
        let cell = renderer.cellPixels
        let area = request.area
        let areaAspect = Double(area.width * cell.width) / Double(max(1, area.height * cell.height))
        let crop = FaceOverlay.detailCrop(
            box: faces[focus].bbox, imageWidth: imageWidth, imageHeight: imageHeight, aspect: areaAspect)
        let cells = ScreenLayout.fit(
            imageWidth: max(1, Int(crop.width.rounded())), imageHeight: max(1, Int(crop.height.rounded())),
            into: area, cellAspect: cellAspect)
        guard !cells.isEmpty else { return .message("no room for the face") }
        // Decode the whole image at the scale that gives the crop the canvas's resolution.
        let scale = min(1, Double(cells.width * cell.width) / max(1, crop.width))
        let width = max(1, Int((Double(imageWidth) * scale).rounded(.up)))
        let height = max(1, Int((Double(imageHeight) * scale).rounded(.up)))
        let image = try decode(path, width, height)
        let sx = Double(image.width) / Double(imageWidth)
        let sy = Double(image.height) / Double(imageHeight)
        let x0 = min(image.width - 1, max(0, Int((crop.x * sx).rounded(.down))))
        let y0 = min(image.height - 1, max(0, Int((crop.y * sy).rounded(.down))))
        let cw = max(1, min(image.width - x0, Int((crop.width * sx).rounded())))
        let ch = max(1, min(image.height - y0, Int((crop.height * sy).rounded())))
        var pixels = [UInt8](repeating: 0, count: cw * ch * 3)
        image.pixels.withUnsafeBufferPointer { src in
            pixels.withUnsafeMutableBufferPointer { dst in
                for row in 0..<ch {
                    let from = ((y0 + row) * image.width + x0) * 3
                    for i in 0..<(cw * 3) { dst[row * cw * 3 + i] = src[from + i] }
                }
            }
        }
        let mapping = FaceOverlay.Mapping(
            crop: (Double(x0) / sx, Double(y0) / sy, Double(cw) / sx, Double(ch) / sy), width: cw, height: ch)
        let style = OverlayStyle.forCells(
            cellWidth: Double(cw) / Double(cells.width), cellHeight: Double(ch) / Double(cells.height),
            symbols: renderer.mode == .symbols)
        FaceOverlay.draw(
            faces, into: &pixels, mapping: mapping, style: style, boxes: request.boxes, landmarks: request.landmarks)
        return tagged(
            renderer.render(
                RGBPicture(width: cw, height: ch, pixels: pixels), columns: cells.width, rows: cells.height),
            request: request, faces: faces, mapping: mapping)
    }

    /// The rendering with the names of the faces on their boxes (when boxes are shown): written
    /// into the cells in symbols mode, carried along to be written after the picture otherwise.
    private func tagged(_ content: PreviewContent, request: PreviewRequest, faces: [Face], mapping: FaceOverlay.Mapping)
        -> PreviewContent
    {
        guard request.boxes, !request.names.isEmpty else { return content }
        let size = content.size
        let tags = FaceOverlay.nameTags(
            faces, names: request.names, mapping: mapping, columns: size.width, rows: size.height)
        guard !tags.isEmpty else { return content }
        switch content {
        case .cells(let grid):
            let colors = (renderer as? SymbolsRenderer)?.colors ?? 256
            let foreground: Int32 = colors >= 256 ? 16 : colors >= 8 ? 0 : -1
            let background: Int32 = colors >= 256 ? 46 : colors >= 8 ? 2 : -1
            return .cells(FaceOverlay.stamp(tags, into: grid, foreground: foreground, background: background))
        case .pixels(var image):
            image.tags = tags
            return .pixels(image)
        case .message:
            return content
        }
    }
}
