import ChainTypes
import Ledger
import NodeCore
import PBFT

// Block sync: a node that is behind fetches ranges from peers that are ahead, checks every
// block and its certificate, and trusts no single peer (issue 17, "Block sync").
extension NodeEngine {
    /// Asks a peer that is ahead for the next range, unless a request is in flight; gives a
    /// request that outlived `syncTimeoutMillis` up and drops its peer.
    func syncIfBehind(now: UInt64) {
        if let o = outstanding, now >= o.sentMillis + settings.syncTimeoutMillis {
            outstanding = nil
            if let peer = directory.peer(nodeKey: o.peer) {
                refuse(peer, "did not answer a sync request for \(o.from)...\(o.to) within \(settings.syncTimeoutMillis) ms",
                       label: "sync-timeout")
            }
            peerHeads[o.peer] = nil
        }
        let head = ledger.head.height
        let ahead = peerHeads.filter { $0.value > head }
        guard outstanding == nil, let best = ahead.values.max() else { return }
        requestBlocks(from: head + 1, to: best, candidates: ahead.keys.sorted { $0.hex < $1.hex }, now: now)
    }

    /// Sends one sync request for `from...to` (capped at `WireMessage.maxSyncBlocks`) to a
    /// connected peer among `candidates`, rotating so that a peer that fails is not asked
    /// first again; falls back to any connected peer whose head is high enough.
    func requestBlocks(from: UInt64, to: UInt64, candidates: [PublicKey], now: UInt64) {
        guard outstanding == nil, from <= to else { return }
        var pool = candidates.filter { network.isConnected($0) && $0 != local.nodeKey }
        if pool.isEmpty {
            pool = peerHeads.filter { $0.value >= from && network.isConnected($0.key) }.keys.sorted { $0.hex < $1.hex }
        }
        guard !pool.isEmpty else { return }
        let peer = pool[syncRotation % pool.count]
        syncRotation &+= 1
        let last = min(to, from + UInt64(WireMessage.maxSyncBlocks) - 1)
        guard network.send(.syncRequest(fromHeight: from, toHeight: last), to: peer, priority: .bulk) else { return }
        outstanding = (peer, from, last, now)
        logger.debug("sync request", metadata: ["from": "\(from)", "to": "\(last)",
                                                "peer": "\(directory.peer(nodeKey: peer)?.name ?? "?")"])
    }

    /// Blocks from a peer (a sync answer or an observer's push): each must be the next
    /// height and pass the checks, else the peer is dropped and the rest ignored.
    func take(_ blocks: [WireMessage.CommittedBlock], from peer: PeerInfo) {
        let answered = outstanding?.peer == peer.nodeKey
        if answered { outstanding = nil }
        for b in blocks {
            let height = b.block.header.height
            if height <= ledger.head.height { continue }
            guard height == ledger.head.height + 1 else { break }
            if let why = commitFromPeer(b) {
                refuse(peer, "served block \(height) that fails the checks: \(why)", label: "bad-sync-block")
                peerHeads[peer.nodeKey] = nil
                return
            }
            if failure != nil { return }
        }
        if answered, blocks.isEmpty {
            // It said it was ahead and sent nothing: do not ask it first again.
            peerHeads[peer.nodeKey] = nil
        }
        syncIfBehind(now: Self.wallMillis())
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
