import ArgumentParser
import ChainTypes
import HansaConfig

struct Keygen: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create a secp256k1 key file (mode 0600) and print its address and public key.",
        discussion: """
        The file is never overwritten. Keep it private: it signs your transactions or your \
        validator's votes. Give the printed public key to whoever writes the genesis template.
        """)

    @Option(name: .shortAndLong, help: "Where to write the key file, e.g. keys/bank-a.key.")
    var out: String

    @Flag(help: "Print the result as JSON.")
    var json = false

    func run() throws {
        let key = PrivateKey.generate()
        try KeyFile.write(key, to: out)
        if json {
            print("{\"key_file\": \"\(out)\", \"address\": \"\(key.publicKey.address.text)\", \"public_key\": \"\(key.publicKey.hex)\"}")
        } else {
            print("key file:   \(out)")
            print("address:    \(key.publicKey.address.text)")
            print("public key: \(key.publicKey.hex)")
        }
    }
}
