// The DRSigV4 module.
