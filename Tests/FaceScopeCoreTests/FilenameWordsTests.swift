import Testing

@testable import FaceScopeCore

@Suite("Filename words and search plans")
struct FilenameWordsTests {
    @Test(
        "filenames split the way people type them",
        arguments: [
            ("examples/obama_and_biden.jpg", ["examples", "obama", "and", "biden", "jpg"]),
            ("IMG_000123.JPG", ["img", "000123", "jpg"]),
            ("pascal/2008_001009.jpg", ["pascal", "2008", "001009", "jpg"]),
            ("grandpaWedding2008.png", ["grandpa", "wedding", "2008", "png"]),
            ("XMLHttpRequest.gif", ["xml", "http", "request", "gif"]),
            ("DSC00042.JPG", ["dsc", "00042", "jpg"]),
            ("Café/Crème brûlée.jpeg", ["cafe", "creme", "brulee", "jpeg"]),
            ("ÉCOLE-été 2.jpg", ["ecole", "ete", "2", "jpg"]),
            ("日本語の写真.jpg", ["日本語の写真", "jpg"]),
            ("a\tb\nc.jpg", ["a", "b", "c", "jpg"]),
            ("---", []),
            ("x", ["x"]),
        ] as [(String, [String])])
    func split(name: String, words: [String]) {
        #expect(FilenameWords.split(name) == words)
    }

    @Test("every start of every word, once, up to the longest indexed start")
    func starts() {
        #expect(FilenameWords.starts("IMG_12.jpg") == "i im img 1 12 j jp jpg")
        #expect(FilenameWords.starts("aa/ab") == "a aa ab")
        let long = FilenameWords.starts("photographically.jpg").split(separator: " ")
        #expect(long.contains("photographic") && !long.contains("photographica"))
    }

    @Test("the indexed value puts a space before every word")
    func indexed() {
        #expect(FilenameWords.indexed("IMG_1.jpg") == " img 1 jpg")
        #expect(FilenameWords.indexed("--") == "")
    }

    @Test(
        "search text: whole words, typed prefixes, and the last word while it is being typed",
        arguments: [
            ("biden", [], ["biden"]),
            ("biden ", ["biden"], []),
            ("obama biden", ["obama"], ["biden"]),
            ("holi* 2023 ", ["2023"], ["holi"]),
            ("grandpaWed", ["grandpa"], ["wed"]),
            ("IMG_000123.jpg", ["img", "000123"], ["jpg"]),
            ("img_000123.", ["img", "000123"], []),
            ("Café", [], ["cafe"]),
            ("\"-|", [], []),
            ("", [], []),
            ("a*b", ["a"], ["b"]),
        ] as [(String, [String], [String])])
    func plan(text: String, words: [String], prefixes: [String]) {
        #expect(SearchPlan(text) == SearchPlan(words: words, prefixes: prefixes))
    }

    @Test("a person's name matches by whole words and word starts, case and accents ignored")
    func names() {
        #expect(SearchPlan("joe biden ").matches(name: "Joe Biden"))
        #expect(SearchPlan("bid").matches(name: "Joe Biden"))
        #expect(SearchPlan("jose").matches(name: "José Martí"))
        #expect(!SearchPlan("biden joe obama ").matches(name: "Joe Biden"))
        #expect(!SearchPlan("").matches(name: "Joe Biden"))
    }
}
