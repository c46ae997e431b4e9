import ChainTypes

// Checkpoints (Castro & Liskov 1999, §4.3) and catching up by sync.
extension PBFTReplica {
    /// Every `checkpoint_interval` heights a replica announces what it committed.
    mutating func sendCheckpoint() {
        let body = Checkpoint.signingBody(height: tip.height, blockHash: tip.hash, validatorIndex: selfIndex16)
        guard let sig = guardedSign(.checkpoint, view: 0, height: tip.height, hash: tip.hash, domain: .checkpoint, body: body) else {
            return
        }
        let cp = Checkpoint(height: tip.height, blockHash: tip.hash, validatorIndex: selfIndex16, signature: sig)
        checkpoints[index] = cp
        broadcast(.checkpoint(cp))
        updateStableCheckpoint()
    }

    mutating func onCheckpoint(_ cp: Checkpoint, from: Int) {
        guard Int(cp.validatorIndex) == from else { stats.dropped += 1; return }
        // One slot per validator (its latest), so a flood of checkpoints costs nothing.
        if let old = checkpoints[from], old.height >= cp.height { return }
        guard cp.height % config.parameters.checkpointInterval == 0 else { stats.dropped += 1; return }
        guard crypto.verify(.checkpoint, cp.signingBody, cp.signature, signer: from) else {
            stats.invalidSignatures += 1
            return
        }
        checkpoints[from] = cp
        updateStableCheckpoint()
    }

    /// A checkpoint is stable when a quorum sent matching ones; a stable checkpoint above
    /// the tip means this replica is behind and must sync. Checkpoints are grouped in
    /// validator order, so the sync peers come in the same order in every process; with one
    /// checkpoint per validator at most one group holds a quorum (2q > n).
    mutating func updateStableCheckpoint() {
        var groups: [(key: CheckpointKey, members: [Int])] = []
        for (i, cp) in checkpoints.indexed {
            let key = CheckpointKey(height: cp.height, hash: cp.blockHash)
            if let g = groups.firstIndex(where: { $0.key == key }) { groups[g].members.append(i) } else { groups.append((key, [i])) }
        }
        guard let best = groups.first(where: { $0.members.count >= config.quorum }),
              best.key.height > stableCheckpoint else { return }
        stableCheckpoint = best.key.height
        // Garbage collection: checkpoints below the stable one prove nothing new.
        checkpoints.removeAll { $0.height < stableCheckpoint }
        if stableCheckpoint > tip.height { startSync(to: stableCheckpoint, peers: best.members) }
    }

    struct CheckpointKey: Hashable {
        let height: UInt64
        let hash: Hash
    }

    /// Asks the shell for the committed blocks up to `height`.
    mutating func startSync(to height: UInt64, peers: [Int]) {
        guard height > tip.height else { return }
        let raised = height > syncTarget
        syncTarget = max(syncTarget, height)
        syncPeers = peers.filter { $0 != index }
        requestSyncIfDue(force: raised)
    }

    mutating func requestSyncIfDue(force: Bool) {
        guard syncTarget > tip.height else { return }
        if !force, let last = lastSyncRequestTick, tickCount < last + config.limits.syncRetryTicks { return }
        lastSyncRequestTick = tickCount
        stats.syncRequests += 1
        // Prefer the peers known to hold the blocks, then everyone else — rotated by one place
        // per request that brought nothing: a shell asks the first peer that can answer, and a
        // byzantine peer first in the list that withholds the range or answers with blocks that
        // fail the checks below would otherwise be asked first forever (a stuck replica).
        let others = (0..<config.n).filter { $0 != index && !syncPeers.contains($0) }
        let order = syncPeers + others
        let shift = order.isEmpty ? 0 : syncAttempts % order.count
        syncAttempts += 1
        outbox.append(.requestSync(fromHeight: tip.height + 1, toHeight: syncTarget,
                                   peers: Array(order[shift...] + order[..<shift])))
    }

    /// A synced block needs only its certificate: it must extend the tip (a later time
    /// included — the ledger refuses any other), match its transactions root, and carry a
    /// valid commit certificate for its hash. Its time is not held against this replica's
    /// clock: a synced block may be old.
    mutating func onSynced(_ block: Block, _ certificate: CommitCertificate) {
        let h = block.header
        guard h.height == tip.height + 1, h.previousHash == tip.hash, h.timestampMillis > tip.timestampMillis,
              certificate.height == h.height,
              certificate.blockHash == block.hash,
              syncedBodyMatches(block),
              syncedCertificateHolds(certificate) else {
            stats.dropped += 1
            return
        }
        syncAttempts = 0
        commit(block, certificate)
        if tip.height >= syncTarget { lastSyncRequestTick = nil }
    }

    /// A synced block's transactions match its header (the certificate covers only the header).
    func syncedBodyMatches(_ block: Block) -> Bool {
        #if HANSA_FLAWS
        if config.has(.syncedBodyUnchecked) { return true }
        #endif
        return Block.transactionsRoot(block.transactions) == block.header.transactionsRoot
    }

    /// A synced block's commit certificate verifies (§4.3: state from others only with a proof).
    func syncedCertificateHolds(_ certificate: CommitCertificate) -> Bool {
        #if HANSA_FLAWS
        if config.has(.syncedCertificateUnchecked) { return true }
        #endif
        return isValid(certificate)
    }
}
