import ChainTypes
import ContractVM
import Foundation
import Ledger
import NIOConcurrencyHelpers

/// The contract ABIs a node knows, by code hash: the files in its ABI directory
/// (`[rpc] abi_directory`, every `*.abi.json` that `hansa contract build` writes). A file is
/// used for a contract only once it agrees with the code deployed under its hash (same
/// functions, kinds and types), so a wrong or stale file is never used to encode a call.
public final class ABIRegistry: Sendable {
    private let abis: [Hash: ContractABI]
    /// Code hashes whose ABI was compared with the deployed program: true when they agree.
    private let checked = NIOLockedValueBox([Hash: Bool]())

    public init(_ abis: [ContractABI]) {
        var table: [Hash: ContractABI] = [:]
        for a in abis { table[a.codeHash] = a }
        self.abis = table
    }

    /// Every `*.abi.json` in `directory` (none when it does not exist). A file that does not
    /// read is an error naming it: a node should not start with an ABI it cannot use.
    public static func load(directory: String) throws(ABIError) -> ABIRegistry {
        let url = URL(fileURLWithPath: directory)
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return ABIRegistry([]) }
        var abis: [ContractABI] = []
        for file in names.sorted() where file.hasSuffix(".abi.json") {
            let path = url.appendingPathComponent(file).path
            guard let data = FileManager.default.contents(atPath: path), data.count <= 1 << 20 else {
                throw ABIError("cannot read the ABI file \(path) (or it is over 1 MiB)")
            }
            do {
                abis.append(try ContractABI(json: try JSON.parse(data), name: String(file.dropLast(".abi.json".count))))
            } catch let e as ABIError {
                throw ABIError("the ABI file \(path): \(e.message)")
            } catch {
                throw ABIError("the ABI file \(path) is not JSON: \(error)")
            }
        }
        return ABIRegistry(abis)
    }

    public var all: [ContractABI] { abis.values.sorted { $0.name < $1.name } }

    /// The ABI of the contract at `address` in state `s`, when one is known and agrees with
    /// its code; nil for an account that is not a contract or has no known ABI.
    public func abi(of address: Address, _ s: some LedgerReader) -> ContractABI? {
        guard let account = try? s.account(address), let codeHash = account.codeHash, let abi = abis[codeHash] else { return nil }
        if let ok = checked.withLockedValue({ $0[codeHash] }) { return ok ? abi : nil }
        let ok: Bool
        if let code = try? StateOverlay(store: s.store).contractCode(address), let program = try? Program(canonicalBytes: code.code) {
            ok = (try? abi.check(against: program)) != nil
        } else {
            ok = false
        }
        checked.withLockedValue { $0[codeHash] = ok }
        return ok ? abi : nil
    }

    /// A contract's parties: the addresses in its address-typed storage variables (for a
    /// letter of credit: the banks, the applicant, the beneficiary, the named carrier).
    /// Empty when its ABI is unknown — then only auditors and regulators read its details.
    public func parties(of contract: Address, _ s: some LedgerReader) -> Set<Address> {
        guard let abi = abi(of: contract, s) else { return [] }
        var out: Set<Address> = []
        for slot in abi.storage where slot.keyType == nil && slot.type == .address {
            if let bytes = try? s.contractStorage(contract, key: Array(slot.name.utf8)), let a = Address(bytes: bytes) { out.insert(a) }
        }
        return out
    }
}
