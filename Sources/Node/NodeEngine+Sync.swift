import ChainTypes
import Ledger
import NodeCore
import PBFT

// Block sync: a node that is behind fetches ranges from peers that are ahead, checks every
// block and its certificate, and trusts no single peer (issue 17, "Block sync").
/// One range asked of one peer.
struct SyncRequest {
    let from: UInt64
    let to: UInt64
    let sentMillis: UInt64
    func contains(_ h: UInt64) -> Bool { from <= h && h <= to }
}

extension NodeEngine {
    /// Requests in flight at once, to different peers.
    static let maxParallelSync = 3

    /// Asks peers that are ahead for the next ranges — up to `maxParallelSync` disjoint ranges
    /// from different peers at once — and gives up a request that outlived `syncTimeoutMillis`,
    /// dropping its peer.
    func syncIfBehind(now: UInt64) {
        for (key, r) in syncRequests where now >= r.sentMillis + settings.syncTimeoutMillis {
            syncRequests[key] = nil
            peerHeads[key] = nil
            if let peer = directory.peer(nodeKey: key) {
                refuse(peer, "did not answer a sync request for \(r.from)...\(r.to) within \(settings.syncTimeoutMillis) ms",
                       label: "sync-timeout")
            }
        }
        let head = ledger.head.height
        guard let best = peerHeads.values.max(), best > head else { return }
        let others = directory.validators.filter { $0.nodeKey != local.nodeKey }.count
        if syncRequestsSent.isEmpty, now < startedMillis + settings.syncGatherMillis,
           peerHeads.keys.filter({ directory.peer(nodeKey: $0)?.isValidator ?? false }).count < others {
            return  // the first sync waits to hear every validator (or `syncGatherMillis`)
        }
        let ahead = peerHeads.filter { $0.value > head }.keys.sorted { $0.hex < $1.hex }
        while syncRequests.count < Self.maxParallelSync, let range = nextUncovered(upTo: best) {
            guard requestBlocks(range, candidates: ahead, now: now) else { return }
        }
    }

    /// The lowest range above the head that no early block and no request covers, at most
    /// `WireMessage.maxSyncBlocks` long.
    func nextUncovered(upTo best: UInt64) -> ClosedRange<UInt64>? {
        func covered(_ h: UInt64) -> SyncRequest? { syncRequests.values.first { $0.contains(h) } }
        var h = ledger.head.height + 1
        while h <= best {
            if early[h] != nil { h += 1; continue }
            if let r = covered(h) { h = r.to + 1; continue }
            var end = h
            let batch = UInt64(max(1, min(settings.syncBatchBlocks, WireMessage.maxSyncBlocks)))
            while end < best, end - h + 1 < batch, early[end + 1] == nil, covered(end + 1) == nil { end += 1 }
            return h...end
        }
        return nil
    }

    /// Sends one sync request for `range` to a connected peer among `candidates` with no
    /// request in flight and a head high enough, rotating so that a peer that failed is not
    /// asked first again; false when no peer is free.
    @discardableResult
    func requestBlocks(_ range: ClosedRange<UInt64>, candidates: [PublicKey], now: UInt64) -> Bool {
        var pool = candidates.filter { network.isConnected($0) && $0 != local.nodeKey && syncRequests[$0] == nil }
        if pool.isEmpty {
            pool = peerHeads.filter { $0.value >= range.lowerBound && network.isConnected($0.key) && syncRequests[$0.key] == nil }
                .keys.sorted { $0.hex < $1.hex }
        }
        guard !pool.isEmpty else { return false }
        let peer = pool[syncRotation % pool.count]
        syncRotation &+= 1
        let last = min(range.upperBound, range.lowerBound + UInt64(WireMessage.maxSyncBlocks) - 1)
        guard network.send(.syncRequest(fromHeight: range.lowerBound, toHeight: last), to: peer, priority: .bulk) else { return false }
        syncRequests[peer] = SyncRequest(from: range.lowerBound, to: last, sentMillis: now)
        if let name = directory.peer(nodeKey: peer)?.name { syncRequestsSent[name, default: 0] += 1 }
        peakParallelSync = max(peakParallelSync, syncRequests.count)
        logger.debug("sync request", metadata: ["from": "\(range.lowerBound)", "to": "\(last)",
                                                "peer": "\(directory.peer(nodeKey: peer)?.name ?? "?")"])
        return true
    }

    /// Blocks from a peer — a sync answer (only the heights asked of it are taken) or a
    /// validator's push to an observer (only the next height) — kept until the heights below
    /// them are in, then committed in order. A block that fails its checks drops its peer and
    /// everything else that peer sent.
    func take(_ blocks: [WireMessage.CommittedBlock], from peer: PeerInfo, answer: Bool = true) {
        let request = answer ? syncRequests.removeValue(forKey: peer.nodeKey) : nil
        let head = ledger.head.height
        for b in blocks {
            let h = b.block.header.height
            guard h > head else { continue }
            if let request { guard request.contains(h) else { continue } } else { guard h == head + 1 else { continue } }
            early[h] = (b, peer.nodeKey)
        }
        if answer, request != nil, blocks.isEmpty {
            // It said it was ahead and sent nothing: do not ask it first again.
            peerHeads[peer.nodeKey] = nil
        }
        commitEarlyBlocks()
        syncIfBehind(now: Self.wallMillis())
    }

    /// Commits the kept blocks that are next, in order.
    func commitEarlyBlocks() {
        while failure == nil, let next = early.removeValue(forKey: ledger.head.height + 1) {
            let height = next.block.block.header.height
            if let why = commitFromPeer(next.block) {
                early = early.filter { $0.value.peer != next.peer }
                peerHeads[next.peer] = nil
                syncRequests[next.peer] = nil
                if let p = directory.peer(nodeKey: next.peer) {
                    refuse(p, "served block \(height) that fails the checks: \(why)", label: "bad-sync-block")
                }
                return
            }
        }
        let head = ledger.head.height
        early = early.filter { $0.key > head }
    }

    /// Commits one synced block: a validator through PBFT (`.synced` checks the certificate
    /// and the transactions root; the ledger re-executes), an observer by the ledger alone
    /// (certificate, extension and re-execution). nil when it committed, else why not.
    func commitFromPeer(_ b: WireMessage.CommittedBlock) -> String? {
        let before = ledger.head.height
        if let driver {
            step(driver, .synced(b.block, b.certificate))
            return ledger.head.height > before || failure != nil ? nil : "PBFT refused it (certificate, parent or body)"
        }
        do {
            try ledger.apply(b.block, certificate: b.certificate)
            return nil
        } catch {
            if case .invalidBlock(let reason) = error { return "\(reason)" }
            logger.critical("the ledger failed", metadata: ["error": "\(error)"])
            failure = .ledger(error)
            return nil
        }
    }
}

// Transactions: checked before the mempool and before they are forwarded (issue 17, "Gossip").
extension NodeEngine {
    /// A client's transaction (signature already checked by the pool): admitted against the
    /// committed state, then gossiped to the validators.
    func admitClient(_ tx: Transaction) -> Result<Hash, IntakeError> {
        guard failure == nil else { return .failure(.unavailable("the node stopped: \(failure!)")) }
        do {
            try admit(tx)
        } catch {
            return .failure(.refused(error))
        }
        _ = seen.insert(tx.hash)
        relay([tx], except: nil)
        return .success(tx.hash)
    }

    /// Clients' transactions in one go: each admitted or refused as `admitClient` does, and the
    /// admitted ones relayed to the validators in as few messages as fit (not one message per
    /// transaction per peer).
    func admitClients(_ txs: [Transaction]) -> [Result<Hash, IntakeError>] {
        guard failure == nil else { return txs.map { _ in .failure(.unavailable("the node stopped: \(failure!)")) } }
        var fresh: [Transaction] = []
        let results = txs.map { tx -> Result<Hash, IntakeError> in
            do throws(TransactionError) { try admit(tx) } catch { return .failure(.refused(error)) }
            _ = seen.insert(tx.hash)
            fresh.append(tx)
            return .success(tx.hash)
        }
        relay(fresh, except: nil)
        return results
    }

    /// Gossiped transactions: the new ones that the mempool admits are relayed on and
    /// remembered (a copy that arrives later is skipped); a transaction refused here is
    /// dropped quietly and not remembered (the sender's state may be ahead of ours).
    func admitGossip(_ txs: [Transaction], from peer: PeerInfo) {
        var fresh: [Transaction] = []
        for tx in txs where !seen.contains(tx.hash) {
            do {
                try admit(tx)
                _ = seen.insert(tx.hash)
                fresh.append(tx)
            } catch {
                // Not marked seen: a refusal may be transient (a nonce gap the next message
                // fills, a full mempool), and a later copy from another peer gets its chance.
                logger.trace("gossiped transaction refused", metadata: ["tx": "\(tx.hash.hex.prefix(16))", "why": "\(error)"])
            }
        }
        if !fresh.isEmpty { relay(fresh, except: peer.nodeKey) }
    }

    private func admit(_ tx: Transaction) throws(TransactionError) {
        let now = Self.wallMillis()
        if let driver { try driver.submit(tx, nowMillis: now) } else { try mempool.add(tx, state: ledger.store, nowMillis: now) }
    }

    /// A validator that connects gets what this node's mempool holds (up to
    /// `maxResentTransactions`, oldest runs first): a transaction gossiped while no validator
    /// was connected, or while this one was down, would otherwise wait for nobody.
    func resendMempool(to peer: PeerInfo) {
        guard peer.isValidator, mempool.count > 0 else { return }
        let txs = mempool.select(maxCount: Self.maxResentTransactions, maxBytes: Int.max, maxGas: .max, nextNonce: nextNonce)
        gossip(txs, to: [peer.nodeKey])
    }

    /// Most transactions sent to a validator that connects.
    static let maxResentTransactions = 10_000

    /// Transactions go to the validators (that is where blocks are made), never back to
    /// the peer they came from; observers do not receive gossip.
    private func relay(_ txs: [Transaction], except: PublicKey?) {
        gossip(txs, to: directory.validators.map(\.nodeKey).filter { $0 != local.nodeKey && $0 != except })
    }

    /// Sends `txs` to `peers` in messages of at most `WireMessage.maxGossipTransactions`.
    private func gossip(_ txs: [Transaction], to peers: [PublicKey]) {
        var start = 0
        while start < txs.count {
            let end = min(txs.count, start + WireMessage.maxGossipTransactions)
            network.send(.transactions(Array(txs[start..<end])), to: peers, priority: .bulk)
            start = end
        }
    }
}
