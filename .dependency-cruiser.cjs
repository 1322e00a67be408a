/**
 * The layering check of `npm test` (`npm run test:layers`): the floors of
 * the house in DESIGN.md, as dependency-cruiser rules over `src/`.
 *
 * Dependencies point one way, top to bottom: a module may import its own
 * floor and the floors below it, never one above, and no import circle
 * exists anywhere (type-only imports count too). `backend/` imports only
 * `core/`, and layers use ops and transforms, never primitives or the
 * backend directly. A violation fails the run and prints the offending
 * import as `rule: from → to`.
 */

// Bottom first. Folders on one row are one floor: they may import each other (without circles).
const FLOORS = [["core"], ["backend"], ["prims"], ["ir"], ["transforms"], ["ops"], ["layers", "optim", "data", "io", "random"]];

const any = (folders) => `^src/(${folders.join("|")})/`;

const floorRules = FLOORS.slice(0, -1).map((floor, i) => ({
  name: `floor-${floor.join("-")}`,
  comment: `${floor.join(", ")} must not import a floor above it (DESIGN.md, "The house")`,
  severity: "error",
  from: { path: any(floor) },
  to: { path: any(FLOORS.slice(i + 1).flat()) },
}));

module.exports = {
  forbidden: [
    {
      name: "no-circular",
      comment: "no import circle anywhere in src/",
      severity: "error",
      from: { path: "^src/" },
      to: { circular: true },
    },
    ...floorRules,
    {
      name: "backend-imports-only-core",
      comment: "backend/ turns loops into running code and knows nothing above core/",
      severity: "error",
      from: { path: "^src/backend/" },
      to: { path: "^src/", pathNot: any(["core", "backend"]) },
    },
    {
      name: "layers-through-ops",
      comment: "a layer is made of ops and transforms; a missing op is added to ops/, not bound in the layer",
      severity: "error",
      from: { path: "^src/layers/" },
      to: { path: any(["prims", "ir", "backend"]) },
    },
    {
      name: "no-unresolvable",
      comment: "every relative import resolves to a file",
      severity: "error",
      from: { path: "^src/" },
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: { extensions: [".ts", ".js"] },
  },
};
