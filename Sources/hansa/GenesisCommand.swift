import ArgumentParser
import Audit
import ChainTypes
import Foundation
import HansaConfig

struct GenesisCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "genesis",
        abstract: "Build a genesis file from a TOML template, or inspect one.",
        subcommands: [Build.self, Show.self],
        defaultSubcommand: Build.self)

    struct Build: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Build the genesis file from a TOML template and print the genesis hash.",
            discussion: "The template format is documented in genesis/README.md; genesis/consortium.toml is an example.")

        @Argument(help: "The TOML template.")
        var template: String

        @Option(help: "Directory of key files for parties given as key = \"NAME\" (reads NAME.key).")
        var keysDir: String?

        @Option(name: .shortAndLong, help: "Where to write the genesis file (JSON).")
        var out: String = "genesis.json"

        @Flag(help: "Replace an existing output file.")
        var force = false

        @Option(help: ArgumentHelp("A validator's or observer's TLS pin, as hansa node init printed it (repeatable); replaces the template's tls_spki_sha256.",
                                   valueName: "NAME=HEX"))
        var tlsPin: [String] = []

        @Option(help: ArgumentHelp("A validator's host:port (repeatable); replaces the template's p2p_address.", valueName: "NAME=HOST:PORT"))
        var p2pAddress: [String] = []

        func run() throws {
            if !force && FileManager.default.fileExists(atPath: out) {
                throw CLIError("\(out) already exists; pass --force to replace it")
            }
            var overrides: [String: GenesisTemplate.NodeOverride] = [:]
            for (flag, values) in [("--tls-pin", tlsPin), ("--p2p-address", p2pAddress)] {
                for v in values {
                    guard let eq = v.firstIndex(of: "="), eq != v.startIndex, v.index(after: eq) != v.endIndex else {
                        throw CLIError("\(flag) \(v): expected NAME=VALUE")
                    }
                    let name = String(v[..<eq]), value = String(v[v.index(after: eq)...])
                    var o = overrides[name] ?? .init()
                    if flag == "--tls-pin" {
                        guard o.tlsSPKISHA256 == nil else { throw CLIError("--tls-pin names \(name) twice") }
                        o.tlsSPKISHA256 = value
                    } else {
                        guard o.p2pAddress == nil else { throw CLIError("--p2p-address names \(name) twice") }
                        o.p2pAddress = value
                    }
                    overrides[name] = o
                }
            }
            let genesis = try GenesisTemplate(file: template, keysDirectory: keysDir, nodeOverrides: overrides).build(now: systemNowMillis)
            try GenesisFile.write(genesis, to: out)
            print("genesis file: \(out)")
            printSummary(genesis)
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check a genesis file, or the genesis a data directory stores, and print its hash and a summary.")

        @Argument(help: "The genesis file (JSON).")
        var file: String?

        @Option(help: "Instead of a file: a data directory (opened read-only), whose genesis it prints.")
        var dataDir: String?

        @Flag(help: "With --data-dir: write the stored genesis as a genesis file (JSON) to standard output instead.")
        var asFile = false

        func run() throws {
            switch (file, dataDir) {
            case (let file?, nil): printSummary(try GenesisFile.read(file))
            case (nil, let dir?):
                let source = try DataDirectorySource(path: dir)
                guard let genesis = try source.storedGenesis() else {
                    throw CLIError("\(dir) does not store its genesis (a directory from before it was stored; the node adds it when it next starts)")
                }
                _ = try source.genesisHash()  // checks the stored genesis against the directory's genesis hash
                if asFile { FileHandle.standardOutput.write(GenesisFile.encode(genesis)) } else { printSummary(genesis) }
            default: throw CLIError("give a genesis file or --data-dir DIR")
            }
        }
    }
}

func printSummary(_ g: Genesis) {
    print("chain id:     \(g.chain)")
    print("genesis hash: \(g.hash.hex)")
    print("validators:   \(g.validators.count) (tolerates \(g.validators.maxFaulty) faulty; quorum \(g.validators.quorum))")
    for v in g.validators.validators { print("  \(v.name)  \(v.address)  \(v.p2pAddress)") }
    let unpinned = g.validators.validators.filter { $0.tlsSPKISHA256 == nil }.map(\.name)
    if !unpinned.isEmpty { print("  no TLS pin (tls_spki_sha256): \(unpinned.joined(separator: ", ")) — fine for a dev chain; a network node refuses to start") }
    print("participants: \(g.participants.count)")
    print("observers:    \(g.observers.count)")
    for o in g.observers { print("  \(o.name)  \(o.role.name)  \(o.address)") }
    print("currencies:   \(g.currencies.map(\.code.value).joined(separator: ", "))")
    print("deposits:     \(g.deposits.count)")
}
