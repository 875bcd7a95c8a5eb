// Loaded into each service by the orchestra bench with BENCH_CPU_PROF=1 (NODE_OPTIONS
// --require; node refuses --cpu-prof there). The bench sends SIGUSR2 once after its warm-up
// (start profiling) and once after its load (stop, write <dir>/<OPS_PORT>.cpuprofile), so
// the profile covers the measured run, not start-up or shutdown.
'use strict';
const inspector = require('node:inspector');
const { writeFileSync } = require('node:fs');
const { join } = require('node:path');

const dir = process.env.BENCH_CPU_PROF_DIR;
if (dir) {
  const session = new inspector.Session();
  session.connect();
  let running = false;
  process.on('SIGUSR2', () => {
    if (!running) {
      running = true;
      session.post('Profiler.enable', () => session.post('Profiler.setSamplingInterval', { interval: 500 }, () => session.post('Profiler.start')));
      return;
    }
    running = false;
    session.post('Profiler.stop', (error, result) => {
      if (!error) writeFileSync(join(dir, `${process.env.OPS_PORT}.cpuprofile`), JSON.stringify(result.profile));
    });
  });
}
