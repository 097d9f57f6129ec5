"""What a model is made of, as data: layer facts, multiply-adds, the papers' stages, the structure
table, and models side by side. Builds on the engine; draws and writes nothing."""
