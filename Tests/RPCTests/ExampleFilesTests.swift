import ChainTypes
import Foundation
import HansaClient
import HansaCrypto
import HansaTestSupport
import Testing
@testable import RPC

/// docs/examples/ as a person would use them: each file reads and turns into the contract's
/// arguments, so the examples in the docs cannot drift from the contract.
@Suite("Example files (docs/examples)")
struct ExampleFilesTests {
    let abi: ContractABI
    init() throws { abi = try InstantNode().abi }

    func shaper(_ base: String = repositoryRoot() + "/docs/examples") -> ArgumentShaper {
        ArgumentShaper(abi: abi, currency: "USD", decimals: 2, baseDirectory: base)
    }

    static func millis(_ isoDay: String) -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withFullDate]
        return String(Int64(f.date(from: isoDay)!.timeIntervalSince1970 * 1000))
    }

    @Test("credit-terms.toml: amounts in minor units, dates in ms, codes summed from the contract's constants")
    func terms() throws {
        let fields = try FieldsFile.read(repositoryRoot() + "/docs/examples/credit-terms.toml")
        let args = try shaper().shape(fields, for: "init")
        #expect(args["amount_"] == "25000000")
        #expect(args["expiry_"] == .string(Self.millis("2030-06-30")))
        let loc = try InstantNode().loc
        #expect(args["required_docs_"] == .string(String(loc.bits("DOC_INVOICE", "DOC_TRANSPORT", "DOC_INSURANCE"))))
        #expect(args["flags_"] == .string(String(loc.bits("ABOUT_AMOUNT", "PAY_ON_ARRIVAL", "NAMED_CARRIER"))))
        _ = try abi.encodeCall("init", args: args)
    }

    @Test("presentation.toml: document hashes from the files beside it")
    func presentation() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("hansa-pres-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let copy = dir.appendingPathComponent("presentation.toml").path
        try FileManager.default.copyItem(atPath: repositoryRoot() + "/docs/examples/presentation.toml", toPath: copy)
        for name in ["invoice", "bill-of-lading", "insurance"] { try Data("the \(name)".utf8).write(to: dir.appendingPathComponent("\(name).pdf")) }
        let args = try shaper(dir.path).shape(try FieldsFile.read(copy), for: "present")
        #expect(args["invoice_hash"]?["hex"] == .string(SHA256.hash(utf8: "the invoice").hex))
        #expect(args["insured_amount"] == "27500000")
        #expect(args["origin_hash"]?["hex"] == "")
        _ = try abi.encodeCall("present", args: args)
        // Without the files: a sentence naming the missing one.
        #expect { _ = try shaper().shape(try FieldsFile.read(repositoryRoot() + "/docs/examples/presentation.toml"), for: "present") }
            throws: { "\($0)".contains("invoice.pdf") }
    }

    @Test("amendment.toml reads; a bare number for an amount, a missing field and an unknown field are refused with sentences")
    func amendmentAndMistakes() throws {
        let fields = try FieldsFile.read(repositoryRoot() + "/docs/examples/amendment.toml")
        #expect(try shaper().shape(fields, for: "propose_amendment")["new_amount"] == "30000000")
        var bare = fields
        bare["new_amount"] = .int(300000)
        #expect { _ = try shaper().shape(bare, for: "propose_amendment") } throws: { "\($0)".contains("as text") }
        var missing = fields
        missing["new_expiry"] = nil
        #expect { _ = try shaper().shape(missing, for: "propose_amendment") } throws: { "\($0)".contains("needs new_expiry") }
        var extra = fields
        extra["colour"] = "red"
        #expect { _ = try shaper().shape(extra, for: "propose_amendment") } throws: { "\($0)".contains("no field colour") }
    }

    @Test("profiles.toml: hansa finds the node from a profile; an unknown profile is a sentence")
    func profiles() throws {
        let r = try HansaExecutable.run(["chain", "--profile", "nosuch"],
                                        environment: ["HANSA_PROFILES": repositoryRoot() + "/docs/examples/profiles.toml"])
        #expect(r.status == 1 && r.err.contains("no profile [nosuch]"), "\(r.err)")
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("hansa-prof-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let port = 1  // nothing listens on port 1 of loopback
        try "[default]\nrpc = \"http://127.0.0.1:\(port)\"\n".write(to: dir.appendingPathComponent("p.toml"), atomically: true, encoding: .utf8)
        let gone = try HansaExecutable.run(["chain"], environment: ["HANSA_PROFILES": dir.appendingPathComponent("p.toml").path])
        #expect(gone.status == 3 && gone.err.contains("127.0.0.1:\(port)"), "\(gone.err)")
    }
}
