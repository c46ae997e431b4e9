import ChainTypes
import Foundation
import HansaTestSupport
import Testing
@testable import RPC

/// The node's ABI directory: files `hansa contract compile` writes, used only when they agree
/// with the deployed code.
@Suite("ABI registry")
struct ABIRegistryTests {
    static func tempDir() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("hansa-abi-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    @Test("the file hansa contract compile writes is found by the credit's code hash")
    func compiledFile() throws {
        let node = try InstantNode()
        let dir = try Self.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = try HansaExecutable.run(["contract", "compile", repositoryRoot() + "/contracts/letter_of_credit.hc", "-o", dir.path])
        #expect(r.status == 0, "\(r.err)")
        try Data("not an abi".utf8).write(to: dir.appendingPathComponent("notes.txt"))  // other files are ignored
        let registry = try ABIRegistry.load(directory: dir.path)
        let s = try #require(node.snapshot)
        #expect(registry.abi(of: node.credit, s)?.name == "letter_of_credit")
        #expect(registry.parties(of: node.credit, s).contains(node.chain.carrier.publicKey.address))
        #expect(try ABIRegistry.load(directory: dir.path + "/missing").all.isEmpty)
    }

    @Test("an ABI that disagrees with the deployed code is never used")
    func disagreeing() throws {
        let node = try InstantNode()
        var doc = try #require(node.abi.document.objectValue)
        var functions = try #require(doc["functions"]?.arrayValue)
        let waive = try #require(functions.firstIndex { $0["name"] == "waive" })
        var f = try #require(functions[waive].objectValue)
        f["params"] = .array([])
        functions[waive] = .object(f)
        doc["functions"] = .array(functions)
        let wrong = try ContractABI(json: .object(doc), name: "letter_of_credit", codeHash: node.abi.codeHash)
        let s = try #require(node.snapshot)
        #expect(ABIRegistry([wrong]).abi(of: node.credit, s) == nil)
        #expect(ABIRegistry([node.abi]).abi(of: node.credit, s) != nil)
    }

    @Test("a file that does not read stops the load with a sentence naming it")
    func unreadable() throws {
        let dir = try Self.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        try Data("{".utf8).write(to: dir.appendingPathComponent("broken.abi.json"))
        #expect { _ = try ABIRegistry.load(directory: dir.path) } throws: { "\($0)".contains("broken.abi.json") }
        try Data(#"{"functions": []}"#.utf8).write(to: dir.appendingPathComponent("broken.abi.json"))
        #expect { _ = try ABIRegistry.load(directory: dir.path) } throws: { "\($0)".contains("code_hash") }
    }
}
