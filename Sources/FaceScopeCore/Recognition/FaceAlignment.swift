/// Where a face chip for the descriptor model is cut from the image: the similarity transform
/// (rotation, uniform scale, translation) that maps the face's landmarks onto dlib's mean face,
/// as dlib's `get_face_chip_details` does for 68-point shapes (size 150, padding 0.25).
public struct FaceAlignment: Sendable, Equatable {
    /// chip = [a -b; b a] * image + [tx, ty]
    public var a: Double
    public var b: Double
    public var tx: Double
    public var ty: Double
    /// The chip's side in pixels.
    public var size: Int

    public init(a: Double, b: Double, tx: Double, ty: Double, size: Int) {
        self.a = a
        self.b = b
        self.tx = tx
        self.ty = ty
        self.size = size
    }

    /// The chip side dlib's face descriptor model takes.
    public static let chipSize = 150
    /// dlib's default padding around the mean face.
    public static let padding = 0.25

    /// The image point shown at chip pixel (`x`, `y`).
    public func toImage(x: Double, y: Double) -> (x: Double, y: Double) {
        let det = a * a + b * b
        let u = x - tx
        let v = y - ty
        return ((a * u + b * v) / det, (-b * u + a * v) / det)
    }

    /// The chip point of image point (`x`, `y`).
    public func toChip(x: Double, y: Double) -> (x: Double, y: Double) {
        (a * x - b * y + tx, b * x + a * y + ty)
    }

    /// The alignment of a face from its keypoints (the 68-point markup at indices 0-67, with
    /// confidence > 0); nil when they are missing. Uses dlib's choice of points: brows, lower lip
    /// and jaw left out.
    public static func align(_ keypoints: [Keypoint], size: Int = chipSize, padding: Double = padding) -> FaceAlignment?
    {
        guard keypoints.count >= 68 else { return nil }
        var from: [(Double, Double)] = []
        var to: [(Double, Double)] = []
        for index in 17..<68
        where !(17...26).contains(index) && !(55...59).contains(index) && !(65...67).contains(index) {
            let k = keypoints[index]
            guard k.confidence > 0, k.x.isFinite, k.y.isFinite else { return nil }
            from.append((k.x, k.y))
            let mean = meanFace[index - 17]
            to.append(
                (
                    (padding + mean.0) / (2 * padding + 1) * Double(size),
                    (padding + mean.1) / (2 * padding + 1) * Double(size)
                ))
        }
        return similarity(from: from, to: to, size: size)
    }

    /// Least-squares similarity transform taking `from` onto `to` (Umeyama without reflection).
    static func similarity(from: [(Double, Double)], to: [(Double, Double)], size: Int) -> FaceAlignment? {
        let n = Double(from.count)
        guard n >= 2 else { return nil }
        let mfx = from.reduce(0) { $0 + $1.0 } / n
        let mfy = from.reduce(0) { $0 + $1.1 } / n
        let mtx = to.reduce(0) { $0 + $1.0 } / n
        let mty = to.reduce(0) { $0 + $1.1 } / n
        var sxx = 0.0
        var sxy = 0.0
        var norm = 0.0
        for (f, t) in zip(from, to) {
            let fx = f.0 - mfx
            let fy = f.1 - mfy
            let ux = t.0 - mtx
            let uy = t.1 - mty
            sxx += fx * ux + fy * uy
            sxy += fx * uy - fy * ux
            norm += fx * fx + fy * fy
        }
        guard norm > 0 else { return nil }
        let a = sxx / norm
        let b = sxy / norm
        return FaceAlignment(a: a, b: b, tx: mtx - (a * mfx - b * mfy), ty: mty - (b * mfx + a * mfy), size: size)
    }

    /// dlib's mean face for points 17-67 of the 68-point markup, in a unit square.
    static let meanFace: [(Double, Double)] = [
        (0.000213256, 0.106454), (0.0752622, 0.038915), (0.18113, 0.0187482), (0.29077, 0.0344891),
        (0.393397, 0.0773906), (0.586856, 0.0773906), (0.689483, 0.0344891), (0.799124, 0.0187482),
        (0.904991, 0.038915), (0.98004, 0.106454), (0.490127, 0.203352), (0.490127, 0.307009),
        (0.490127, 0.409805), (0.490127, 0.515625), (0.36688, 0.587326), (0.426036, 0.609345),
        (0.490127, 0.628106), (0.554217, 0.609345), (0.613373, 0.587326), (0.121737, 0.216423),
        (0.187122, 0.178758), (0.265825, 0.179852), (0.334606, 0.231733), (0.260918, 0.245099),
        (0.182743, 0.244077), (0.645647, 0.231733), (0.714428, 0.179852), (0.793132, 0.178758),
        (0.858516, 0.216423), (0.79751, 0.244077), (0.719335, 0.245099), (0.254149, 0.780233),
        (0.340985, 0.745405), (0.428858, 0.727388), (0.490127, 0.742578), (0.551395, 0.727388),
        (0.639268, 0.745405), (0.726104, 0.780233), (0.642159, 0.864805), (0.556721, 0.902192),
        (0.490127, 0.909281), (0.423532, 0.902192), (0.338094, 0.864805), (0.290379, 0.784792),
        (0.428096, 0.778746), (0.490127, 0.785343), (0.552157, 0.778746), (0.689874, 0.784792),
        (0.553364, 0.824182), (0.490127, 0.831803), (0.42689, 0.824182),
    ]
}
