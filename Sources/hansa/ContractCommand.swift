import ArgumentParser
import ChainTypes
import ContractVM
import Foundation
import RPC

/// `hansa contract compile FILE`: contract source → bytecode and ABI (docs/CONTRACTS.md).
struct ContractCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "contract",
        abstract: "Compile contracts; call any contract through a node by its ABI (send, query).",
        subcommands: [Compile.self, Send.self, Query.self])

    struct Compile: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Compile a contract to bytecode (NAME.hvm) and its ABI (NAME.abi.json).",
            discussion: "A compile error prints file:line:column and a sentence, and exits with status 1.")

        @Argument(help: "The contract source, e.g. contracts/letter_of_credit.hc.")
        var source: String

        @Option(name: .shortAndLong, help: "Directory for the outputs (default: next to the source).")
        var output: String?

        @Flag(help: "Also print the bytecode as hex on standard output.")
        var hex = false

        func run() throws {
            guard let data = FileManager.default.contents(atPath: source) else { throw CLIError("cannot read \(source)") }
            guard let text = String(data: data, encoding: .utf8) else { throw CLIError("\(source) is not UTF-8 text") }
            let compiled: CompiledContract
            do { compiled = try Compiler.compile(text, file: source) } catch {
                // The compiler's own form, as editors and CI logs expect it: file:line:column: error: …
                FileHandle.standardError.write(Data((error.description + "\n").utf8))
                throw ExitCode(1)
            }
            let url = URL(fileURLWithPath: source)
            let name = url.deletingPathExtension().lastPathComponent
            let dir = output.map { URL(fileURLWithPath: $0, isDirectory: true) } ?? url.deletingLastPathComponent()
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            let code = dir.appendingPathComponent("\(name).hvm")
            let abi = dir.appendingPathComponent("\(name).abi.json")
            let bytes = compiled.bytecode
            try Data(bytes).write(to: code)
            try Data(Self.abiDocument(compiled, name: name).utf8).write(to: abi)
            let p = compiled.program
            print("compiled \(source): \(bytes.count) bytes, \(p.functions.count) functions, \(p.constants.count) constants")
            print("  bytecode  \(code.path)  (sha256 \(SHA256.hash(bytes)))")
            print("  abi       \(abi.path)")
            if hex { print(Hex.encode(bytes)) }
        }

        /// The compiler's ABI with the contract's name and the bytecode's SHA-256 first: a
        /// node's RPC finds a contract's ABI by the code hash of its account (docs/RPC.md).
        static func abiDocument(_ compiled: CompiledContract, name: String) throws -> String {
            guard case .object(let body) = try JSON.parse(compiled.abiJSON) else { throw CLIError("the compiler wrote an ABI that is not an object") }
            var doc: JSONObject = ["name": .string(name), "code_hash": .string(SHA256.hash(compiled.bytecode).hex)]
            for key in body.keys { doc[key] = body[key] }
            return pretty(.object(doc)) + "\n"
        }
    }
}
