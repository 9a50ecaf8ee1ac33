// The DRVerify module.
