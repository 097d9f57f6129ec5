"""Results turned into pictures and pages: plot_model diagrams, a safe inline SVG, charts and the
study reports. Renders what it is given and never runs the engine itself."""
