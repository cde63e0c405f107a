import Foundation
import Testing
@testable import MregCore
import _MregTestSupport

/// Unit tests of model names, stage names and version references (Names/Names.swift).
@Suite("Names unit")
struct NamesTests {
    // MARK: - ModelName

    static let goodModels = [
        "fraud", "a", "0", "x.y_z-1", "a..b", "9lives", "model-v2.1_final",
        String(repeating: "m", count: 64), "a" + String(repeating: "._-9", count: 15) + "xyz",
    ]

    @Test("model names that are accepted", arguments: goodModels)
    func goodModel(name: String) throws {
        let m = try ModelName(name)
        #expect(m.value == name)
        #expect(m.description == name)
        #expect(name.utf8.count <= 64)
    }

    static let badModels: [(String, String)] = [
        ("", "empty"),
        ("../x", "must start"),
        ("/abs", "must start"),
        ("a b", "space"),
        ("..", "must start"),
        (".", "must start"),
        (".hidden", "must start"),
        ("-x", "must start"),
        ("_x", "must start"),
        ("Fraud", "upper-case"),
        ("fRaud", "upper-case"),
        (String(repeating: "a", count: 65), "longer than 64"),
        (String(repeating: "a", count: 4096), "longer than 64"),
        ("a/../../b", "path separator"),
        ("a/b", "path separator"),
        ("a\\..\\b", "path separator"),
        ("%2e%2e%2f", "must start"),
        ("a%2fb", "%"),
        ("a\u{0}b", "control character"),
        ("a\nb", "control character"),
        ("a\tb", "control character"),
        ("a\rb", "control character"),
        ("a\u{7f}", "control character"),
        ("x.lock", ".lock"),
        ("fraud.lock", ".lock"),
        ("fr\u{0430}ud", "non-ASCII"),           // Cyrillic а
        ("\u{0066}\u{0072}\u{0430}\u{0075}\u{0064}", "non-ASCII"),
        ("\u{FF46}\u{FF52}\u{FF41}\u{FF55}\u{FF44}", "must start"),  // full-width ｆｒａｕｄ
        ("fraud\u{FF0E}v2", "non-ASCII"),        // full-width full stop
        ("frau\u{0064}\u{0301}", "non-ASCII"),   // combining accent
        ("fraud\u{200B}", "non-ASCII"),          // zero-width space
        ("a:b", "\":\""),
        ("a@b", "\"@\""),
        ("a~b", "\"~\""),
        ("a*", "\"*\""),
    ]

    @Test("model names that are refused, with the reason", arguments: badModels)
    func badModel(name: String, reason: String) {
        let e = #expect(throws: MregError.self) { try ModelName(name) }
        #expect(e?.kind == .invalidInput)
        #expect(e?.message.contains("model name") == true, "\(e?.message ?? "")")
        #expect(e?.message.contains(reason) == true, "\(name.debugDescription): \(e?.message ?? "")")
        // The message is one line and never carries raw control characters.
        #expect(e?.message.unicodeScalars.contains { $0.value < 32 || $0.value == 127 } == false, "\(e?.message.debugDescription ?? "")")
    }

    @Test("a very long name is cut in the message")
    func longNameShown() {
        let e = #expect(throws: MregError.self) { try ModelName(String(repeating: "a", count: 4096)) }
        #expect((e?.message.count ?? .max) < 200)
    }

    @Test("model names sort by value")
    func ordering() throws {
        let names = try ["b", "a", "a.b", "0"].map(ModelName.init)
        #expect(names.sorted().map(\.value) == ["0", "a", "a.b", "b"])
    }

    // MARK: - StageName

    @Test("stage names follow the model rules", arguments: ["production", "staging", "canary-eu.1", "p", "1st", "v2"])
    func goodStage(name: String) throws {
        #expect(try StageName(name).value == name)
    }

    @Test("stage names that are refused", arguments: [
        "7", "0", "123", "0001", String(repeating: "9", count: 64), "", "Production", "../prod", "prod/eu", "x.lock", "prod uction",
    ])
    func badStage(name: String) {
        let e = #expect(throws: MregError.self) { try StageName(name) }
        #expect(e?.kind == .invalidInput)
        #expect(e?.message.contains("stage name") == true, "\(e?.message ?? "")")
        if !name.isEmpty && name.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }) && name.count <= 64 {
            #expect(e?.message.contains("all digits") == true, "\(e?.message ?? "")")
        }
    }

    @Test("the production constant")
    func production() {
        #expect(StageName.production.value == "production")
    }

    // MARK: - VersionRef

    static func m(_ s: String) -> ModelName { try! ModelName(s) }
    static func s(_ s: String) -> StageName { try! StageName(s) }

    static let goodRefs: [(String, VersionRef)] = [
        ("fraud@7", .number(m("fraud"), 7)),
        ("fraud@1", .number(m("fraud"), 1)),
        ("fraud@123456", .number(m("fraud"), 123_456)),
        ("fraud", .latest(m("fraud"))),
        ("x.y_z-1", .latest(m("x.y_z-1"))),
        ("fraud@production", .champion(m("fraud"), s("production"), back: 0)),
        ("fraud@production~2", .champion(m("fraud"), s("production"), back: 2)),
        ("fraud@production~", .champion(m("fraud"), s("production"), back: 1)),
        ("fraud@production~1", .champion(m("fraud"), s("production"), back: 1)),
        ("fraud@production~0", .champion(m("fraud"), s("production"), back: 0)),
        ("fraud@staging~10", .champion(m("fraud"), s("staging"), back: 10)),
        ("fraud@1st", .champion(m("fraud"), s("1st"), back: 0)),
        ("sha256:0123abcd", .id("0123abcd")),
        ("sha256:0123ABCD", .id("0123abcd")),
        ("sha256:" + String(repeating: "ab", count: 32), .id(String(repeating: "ab", count: 32))),
    ]

    @Test("version references that parse", arguments: goodRefs)
    func goodRef(text: String, expected: VersionRef) throws {
        let ref = try VersionRef(text)
        #expect(ref == expected)
        // The description reads back as the same reference.
        #expect(try VersionRef(ref.description) == ref)
        if case .id = ref { #expect(ref.model == nil) } else { #expect(ref.model != nil) }
    }

    @Test("descriptions are the canonical spelling")
    func descriptions() throws {
        #expect(try VersionRef("fraud@production~").description == "fraud@production~1")
        #expect(try VersionRef("fraud@production~0").description == "fraud@production")
        #expect(try VersionRef("sha256:0123ABCD").description == "sha256:0123abcd")
        #expect(try VersionRef("fraud@7").model == Self.m("fraud"))
    }

    static let badRefs: [String] = [
        "fraud@0", "fraud@", "fraud@-1", "sha256:0123", "sha256:", "sha256:xyz", "sha256:0123abcg",
        "sha256:" + String(repeating: "a", count: 65), "sha256: 0123abcd", "@7", "@production", "fraud@prod~x",
        "fraud@prod~-1", "fraud@prod~1~2", "fraud@prod~1.5", "fraud@7~1", "fraud@1234567890123456",
        "Fraud@7", "../fraud@7", "fraud@Production", "fraud@prod/eu", "fraud@@7", "fraud@7@8", "", "fraud@ 7",
        "fraud@production~99999999999", "fr\u{0430}ud@7",
    ]

    @Test("version references that are refused as invalid input", arguments: badRefs)
    func badRef(text: String) {
        let e = #expect(throws: MregError.self) { try VersionRef(text) }
        #expect(e?.kind == .invalidInput, "\(e?.message ?? "")")
        #expect(e?.message.isEmpty == false)
    }

    @Test("a version number of more than 15 digits is too large, not below 1")
    func hugeVersion() {
        let e = #expect(throws: MregError.self) { try VersionRef("fraud@99999999999999999999999") }
        #expect(e?.message.hasSuffix("version number too large") == true, "\(e?.message ?? "")")
        let zero = #expect(throws: MregError.self) { try VersionRef("fraud@0") }
        #expect(zero?.message.hasSuffix("version numbers start at 1") == true, "\(zero?.message ?? "")")
    }

    @Test("a too-short id says how many digits to give")
    func shortID() {
        let e = #expect(throws: MregError.self) { try VersionRef("sha256:0123") }
        #expect(e?.message.contains("at least 8") == true, "\(e?.message ?? "")")
    }
}
