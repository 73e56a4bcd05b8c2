import { recorderCpuBench } from './bench/recorder.js';
for (let i = 0; i < 3; i++) {
  const r = await recorderCpuBench.run();
  console.log(r.value.toFixed(3), r.baseline.toFixed(3), (r.value / r.baseline).toFixed(3), r.note);
}
