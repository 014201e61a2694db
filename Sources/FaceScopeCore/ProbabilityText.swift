/// How a face's detection probability is written for people, everywhere (the browser's list,
/// face detail and boxes, and the `show`, `similar`, `people` and `list` commands): the stored
/// percent (0-100) followed by `%`, as in "97%". JSON outputs keep the number (`probability`).
public enum ProbabilityText {
    /// `probability` (a percent) as "97%"; values outside 0...100 are clamped.
    public static func format(_ probability: Int) -> String {
        "\(min(100, max(0, probability)))%"
    }
}

extension Face {
    /// The face's probability as it is shown ("97%").
    public var probabilityText: String { ProbabilityText.format(probability) }
}
