// The DRRunbook module.
