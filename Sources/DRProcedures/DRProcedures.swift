// The DRProcedures module.
