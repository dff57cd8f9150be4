// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title NodeList: the nodes and parameters of each epoch of a threshold key-management network.
/// @notice Nodes read their epoch's (n, k, t) and peers from here; clients (fetch-node-details 2.x-4.0.2)
/// read `currentEpoch()`, `getEpochInfo(epoch)` and `getNodeDetails(node)`. Those three keep the exact
/// signatures of the legacy Torus NodeListProxy, so old clients can be pointed straight at this contract;
/// there is no separate proxy.
contract NodeList {
    struct Epoch {
        uint256 id; // equals the mapping key once created; 0 means "no such epoch"
        uint256 n; // number of nodes; registration closes when nodeList.length == n
        uint256 k; // reconstruction threshold
        uint256 t; // tolerated faults in key generation
        address[] nodeList; // in registration order: nodeList[i] has position i + 1
        uint256 prevEpoch;
        uint256 nextEpoch;
        uint256 createdAt; // block.timestamp of createEpoch
    }

    struct Details {
        string declaredIp; // "host:port" of the node's JSON-RPC server
        uint256 position; // 1-based registration order in the epoch; 0 means "not registered"
        uint256 pubKx;
        uint256 pubKy;
        string tmP2PListenAddress;
        string p2pListenAddress;
    }

    // Custom errors carry the offending values, so a failed call says what was wrong and with what.
    error NotOwner(address caller);
    error ZeroAddress();
    error EpochZero();
    error EpochExists(uint256 epoch);
    error EpochNotFound(uint256 epoch);
    error InvalidN(uint256 n);
    error InvalidK(uint256 k, uint256 n);
    error InvalidT(uint256 t, uint256 n);
    error NotWhitelisted(uint256 epoch, address node);
    error AlreadyRegistered(uint256 epoch, address node);
    error EpochFull(uint256 epoch, uint256 n);
    error PublicKeyMismatch(address sender, address keyAddress);

    event OwnershipTransferred(address indexed previousOwner, address indexed newOwner);
    event CurrentEpochChanged(uint256 previous, uint256 current);
    event EpochCreated(uint256 indexed epoch, uint256 n, uint256 k, uint256 t, uint256 prevEpoch, uint256 nextEpoch);
    event EpochLinksUpdated(uint256 indexed epoch, uint256 prevEpoch, uint256 nextEpoch);
    event WhitelistUpdated(uint256 indexed epoch, address indexed node, bool allowed);
    event NodeListed(address indexed node, uint256 indexed epoch, uint256 position);

    address public owner;
    /// The epoch clients are served. `getNodeDetails(address)` answers for this epoch.
    uint256 public currentEpoch;

    mapping(uint256 => Epoch) private epochs;
    mapping(uint256 => mapping(address => bool)) private whitelist;
    // Details are kept per epoch. The legacy contract kept one record per address, so a node listed in two
    // epochs (the normal case across an epoch transition) overwrote its old record, and the old epoch's
    // declaredIp, keys and position were lost while that epoch was still being served.
    mapping(uint256 => mapping(address => Details)) private details;

    modifier onlyOwner() {
        if (msg.sender != owner) revert NotOwner(msg.sender);
        _;
    }

    modifier existingEpoch(uint256 epoch) {
        // createEpoch rejects 0, so id == 0 also covers epoch 0.
        if (epochs[epoch].id == 0) revert EpochNotFound(epoch);
        _;
    }

    constructor() {
        owner = msg.sender;
        emit OwnershipTransferred(address(0), msg.sender);
    }

    // ----- administration (owner only) -----

    function transferOwnership(address newOwner) external onlyOwner {
        // Ownership sent to address(0) could never be used again; renouncing is not a feature here.
        if (newOwner == address(0)) revert ZeroAddress();
        emit OwnershipTransferred(owner, newOwner);
        owner = newOwner;
    }

    /// Only a created epoch can be current: clients would otherwise read an empty node list, and
    /// fetch-node-details silently falls back to the mainnet list on any failure.
    function setCurrentEpoch(uint256 epoch) external onlyOwner existingEpoch(epoch) {
        emit CurrentEpochChanged(currentEpoch, epoch);
        currentEpoch = epoch;
    }

    /// Creates an epoch with an empty node list. Parameters are fixed once created: nodes derive their
    /// key-generation setup from them, so changing them under registered nodes would split the network.
    function createEpoch(uint256 epoch, uint256 n, uint256 k, uint256 t, uint256 prevEpoch, uint256 nextEpoch)
        external
        onlyOwner
    {
        // Epoch 0 is the "unset" value of currentEpoch, prevEpoch and nextEpoch; it cannot be a real epoch.
        if (epoch == 0) revert EpochZero();
        if (epochs[epoch].id != 0) revert EpochExists(epoch);
        if (n < 1) revert InvalidN(n);
        if (k < 1 || k > n) revert InvalidK(k, n);
        if (t >= n) revert InvalidT(t, n);
        Epoch storage e = epochs[epoch];
        e.id = epoch;
        e.n = n;
        e.k = k;
        e.t = t;
        e.prevEpoch = prevEpoch;
        e.nextEpoch = nextEpoch;
        e.createdAt = block.timestamp;
        emit EpochCreated(epoch, n, k, t, prevEpoch, nextEpoch);
    }

    /// Links can change after creation: the next epoch is usually decided while the current one runs.
    function updateEpochLinks(uint256 epoch, uint256 prevEpoch, uint256 nextEpoch)
        external
        onlyOwner
        existingEpoch(epoch)
    {
        epochs[epoch].prevEpoch = prevEpoch;
        epochs[epoch].nextEpoch = nextEpoch;
        emit EpochLinksUpdated(epoch, prevEpoch, nextEpoch);
    }

    /// The whitelist may be prepared before the epoch is created; it is checked when a node lists itself.
    /// Removing a node that has already listed itself does not remove it from the node list: other nodes
    /// have already set up key generation with it.
    function updateWhitelist(uint256 epoch, address node, bool allowed) external onlyOwner {
        if (epoch == 0) revert EpochZero();
        if (node == address(0)) revert ZeroAddress();
        whitelist[epoch][node] = allowed;
        emit WhitelistUpdated(epoch, node, allowed);
    }

    // ----- registration (nodes) -----

    /// A whitelisted node lists itself in an epoch. The sender must own the public key it declares: its
    /// address must be keccak256(pubKx || pubKy)[12:]. Finding another (x, y) with the same address would
    /// take a keccak preimage, so nobody can register someone else's key (clients encrypt shares to it).
    function listNode(
        uint256 epoch,
        string calldata declaredIp,
        uint256 pubKx,
        uint256 pubKy,
        string calldata tmP2PListenAddress,
        string calldata p2pListenAddress
    ) external existingEpoch(epoch) {
        if (!whitelist[epoch][msg.sender]) revert NotWhitelisted(epoch, msg.sender);
        if (details[epoch][msg.sender].position != 0) revert AlreadyRegistered(epoch, msg.sender);
        Epoch storage e = epochs[epoch];
        if (e.nodeList.length >= e.n) revert EpochFull(epoch, e.n);
        address keyAddress = address(uint160(uint256(keccak256(abi.encodePacked(pubKx, pubKy)))));
        if (keyAddress != msg.sender) revert PublicKeyMismatch(msg.sender, keyAddress);

        e.nodeList.push(msg.sender);
        uint256 position = e.nodeList.length;
        details[epoch][msg.sender] = Details({
            declaredIp: declaredIp,
            position: position,
            pubKx: pubKx,
            pubKy: pubKy,
            tmP2PListenAddress: tmP2PListenAddress,
            p2pListenAddress: p2pListenAddress
        });
        emit NodeListed(msg.sender, epoch, position);
    }

    // ----- views -----
    // Views of a missing epoch or node return zero values rather than reverting, as the legacy contract's
    // did: id == 0 means "no such epoch", position == 0 means "not registered".

    function isWhitelisted(uint256 epoch, address node) external view returns (bool) {
        return whitelist[epoch][node];
    }

    function nodeRegistered(uint256 epoch, address node) external view returns (bool) {
        return details[epoch][node].position != 0;
    }

    /// The legacy Epoch layout without createdAt (fetch-node-details decodes exactly these 7 outputs).
    function getEpochInfo(uint256 epoch)
        external
        view
        returns (
            uint256 id,
            uint256 n,
            uint256 k,
            uint256 t,
            address[] memory nodeList,
            uint256 prevEpoch,
            uint256 nextEpoch
        )
    {
        Epoch storage e = epochs[epoch];
        return (e.id, e.n, e.k, e.t, e.nodeList, e.prevEpoch, e.nextEpoch);
    }

    function getEpochCreatedAt(uint256 epoch) external view returns (uint256) {
        return epochs[epoch].createdAt;
    }

    function getNodes(uint256 epoch) external view returns (address[] memory) {
        return epochs[epoch].nodeList;
    }

    function getNodeDetailsForEpoch(uint256 epoch, address node)
        external
        view
        returns (
            string memory declaredIp,
            uint256 position,
            uint256 pubKx,
            uint256 pubKy,
            string memory tmP2PListenAddress,
            string memory p2pListenAddress
        )
    {
        return _details(epoch, node);
    }

    /// The legacy NodeListProxy signature (selector 0xbafb3581) that fetch-node-details calls; it has no
    /// epoch argument, so it answers for currentEpoch.
    function getNodeDetails(address node)
        external
        view
        returns (
            string memory declaredIp,
            uint256 position,
            uint256 pubKx,
            uint256 pubKy,
            string memory tmP2PListenAddress,
            string memory p2pListenAddress
        )
    {
        return _details(currentEpoch, node);
    }

    function _details(uint256 epoch, address node)
        private
        view
        returns (string memory, uint256, uint256, uint256, string memory, string memory)
    {
        Details storage d = details[epoch][node];
        return (d.declaredIp, d.position, d.pubKx, d.pubKy, d.tmP2PListenAddress, d.p2pListenAddress);
    }
}
