import type { DistillRequest, ModelInfo } from '../../api/client';
import { useClient } from '../../app/client-context';
import { useCommand } from '../../app/commands';
import { gflopsPerMp } from '../../components/ModelPicker';
import { usePathPicker } from '../../components/PathBrowser';
import { formatInt } from '../../format';
import { useImages } from '../../state/images';
import { isActive, latestJob, resultKey, resultsFor, useJobs } from '../../state/jobs';
import { useModels } from '../../state/models';
import { PLANNED_STUDENT, reportError, useForm, useUi } from '../../state/ui';
import { runModels } from '../compare/ModelSlot';
import { inheritable, InheritField, rankingReport, studentInit } from './InheritField';
import { PruneStage } from './PruneStage';
import { distilScale, inheritsAt, ScaleField, valDirFor, type StudentScale } from './ScaleField';
import { StagePlanner } from './StagePlanner';
import { DataFolders, TeacherFields } from './TeacherFields';
import { JobControls, NumberField, TrainingPanel } from './TrainingPanel';

/** Student architectures the distillation job builds (engine presets). */
const STUDENT_PRESETS = [
  { id: 'edsr-mini', label: 'EDSRmini (49.6 k params)' },
  { id: 'swinir-mini', label: 'SwinIRmini (98.9 k params)' },
] as const;
export function WizardView() {
  // The stage to do next: prune until a report exists, then compress until a student is handed on.
  const reported = useJobs((s) => !!latestJob(s, 'prune')?.prune);
  const handed = useUi((s) => s.forms.distill.student === PLANNED_STUDENT);
  const current = !reported && !handed ? 1 : !handed ? 2 : 3;
  const stage = (n: number, name: string) => (
    <li className={n === current ? 'current' : undefined} aria-current={n === current ? 'step' : undefined}>
      {n} {name}
    </li>
  );
  return (
    <div className="wizard-view">
      <ol className="stepper" aria-label="Compression stages">
        {stage(1, 'Prune')}
        {stage(2, 'Compress')}
        {stage(3, 'Distil')}
      </ol>
      <div className="stages">
        <PruneStage />
        <StagePlanner />
        <DistilStage />
      </div>
    </div>
  );
}

function DistilStage() {
  const client = useClient();
  const models = useModels((s) => s.models);
  const job = useJobs((s) => latestJob(s, 'distill'));
  const pruneJob = useJobs((s) => latestJob(s, 'prune'));
  const { pick, dialog } = usePathPicker();
  const [form, setForm] = useForm('distill');
  const { teacherPath, teacherPreset, student, steps, batch, patch, lr, dataDir, valDir } = form;
  const set =
    <K extends keyof typeof form>(k: K) =>
    (v: (typeof form)[K]) =>
      setForm({ [k]: v } as Partial<typeof form>);
  const [setTeacherChoice, setTeacherPath, setTeacherPreset, setStudent] = [
    set('teacher'),
    set('teacherPath'),
    set('teacherPreset'),
    set('student'),
  ];
  const [setSteps, setBatch, setPatch, setLr, setDataDir, setValDir] = [
    set('steps'),
    set('batch'),
    set('patch'),
    set('lr'),
    set('dataDir'),
    set('valDir'),
  ];
  const { teacherId, importing, teacher: tScale, scale, reachable } = distilScale(models, form);
  const active = isActive(job);
  const planned = student === PLANNED_STUDENT ? form.planned : undefined;
  // A student planned (and budgeted) at another scale would get this scale's upsampler: plan it again.
  const plannedAt = planned && typeof planned.config.upscale === 'number' ? planned.config.upscale : undefined;
  const plannedElsewhere = plannedAt !== undefined && plannedAt !== scale;
  const studentReady = student === PLANNED_STUDENT ? !!planned && !plannedElsewhere : !!student;
  const sameScale = inheritsAt(scale, tScale);
  // A checkpoint's preset names its family (edsr-baseline, swinir-light); a listed model carries it.
  const teacherFamily = importing
    ? /\.onnx$/i.test(teacherPath.trim())
      ? undefined
      : teacherPreset.split('-')[0]
    : models.find((m) => m.id === teacherId)?.family;
  const inherit = studentInit(form, !sameScale, teacherFamily) === 'inherit';
  const report = inherit ? rankingReport(form, importing ? teacherPath.trim() : teacherId, pruneJob) : undefined;
  // A new scale takes the validation folder of its own scale (Set5/x2 -> Set5/x4) and the default init where inheritance cannot hold.
  const setScale = (s: StudentScale) =>
    setForm({
      scale: s,
      valDir: valDirFor(valDir, scale, s),
      ...(inheritsAt(s, tScale) || form.init !== 'inherit' ? {} : { init: undefined }),
    });
  const valid =
    reachable &&
    (!inherit || (inheritable(form, teacherFamily) && sameScale)) &&
    (importing ? /\.(pth|pt|safetensors|onnx)$/i.test(teacherPath.trim()) : !!teacherId) &&
    studentReady &&
    dataDir.trim() !== '' &&
    steps > 0 &&
    batch > 0 &&
    lr > 0;

  const start = async () => {
    if (!valid || active) return;
    const req: DistillRequest = {
      teacher: importing ? teacherPath.trim() : teacherId,
      ...(importing ? { teacherPreset } : {}),
      ...(planned ? { studentConfig: planned.config } : { student }),
      scale,
      steps,
      batch,
      patch,
      lr,
      dataDir: dataDir.trim(),
      ...(valDir.trim() ? { valDir: valDir.trim() } : {}),
      // The user's choice, else the engine's default (inheritance where the teacher allows it).
      ...(form.init ? { init: form.init } : {}),
      ...(report ? { report } : {}),
    };
    try {
      useJobs.getState().track(await client.startDistill(req), { kind: 'distill', req });
    } catch (e) {
      reportError(e);
    }
  };
  useCommand('run', valid && !active ? () => void start() : undefined);
  useCommand('cancel', active && job ? () => void client.cancelJob(job.info.id).catch(reportError) : undefined);

  return (
    <section className="stage-card wide" aria-label="Stage 3: Distil">
      {dialog}
      <header>
        <span className="stage-num">3</span>
        <h2>Distil</h2>
        <span className="badge ok">ready</span>
      </header>
      <fieldset disabled={active} className="grid-form">
        <TeacherFields
          models={models}
          teacherId={teacherId}
          onTeacher={setTeacherChoice}
          path={teacherPath}
          onPath={setTeacherPath}
          preset={teacherPreset}
          onPreset={setTeacherPreset}
          labels={{
            select: 'Teacher model',
            importOption: 'Import a .pth / .safetensors / ONNX file…',
            fileCaption: 'Teacher file (.pth, .safetensors or .onnx)',
            file: 'Teacher file path',
            preset: 'Teacher architecture',
          }}
        />
        <label className="field">
          <span>Student</span>
          <select aria-label="Student preset" value={student} onChange={(e) => setStudent(e.target.value)}>
            {STUDENT_PRESETS.map((p) => (
              <option key={p.id} value={p.id}>
                {p.label}
              </option>
            ))}
            {form.planned && <option value={PLANNED_STUDENT}>Planned in stage 2: {form.planned.label}</option>}
          </select>
        </label>
        <ScaleField scale={scale} teacher={tScale} onScale={setScale} />
        {plannedElsewhere && (
          <p className="hint" role="note">
            The planned student was sized at x{plannedAt}: in stage 2, use the plan made at x{scale} as the student.
          </p>
        )}
        <InheritField
          form={form}
          report={report}
          {...(sameScale || tScale === undefined ? {} : { acrossScales: { teacher: tScale, student: scale } })}
          {...(teacherFamily ? { teacherFamily } : {})}
          onInit={set('init')}
        />
        <NumberField label="Steps" value={steps} min={1} step={100} onChange={setSteps} />
        <NumberField label="Batch" value={batch} min={1} step={1} onChange={setBatch} />
        <NumberField label="Patch (LR pixels)" value={patch} min={8} step={8} onChange={setPatch} />
        <NumberField label="Learning rate" value={lr} min={0} step={1e-5} onChange={setLr} />
        <DataFolders
          dataDir={dataDir}
          valDir={valDir}
          onDataDir={setDataDir}
          onValDir={setValDir}
          pick={pick}
          labels={{
            data: 'Training data folder',
            chooseData: 'Choose training data folder',
            val: 'Validation folder',
            chooseVal: 'Choose validation folder',
          }}
        />
      </fieldset>
      <JobControls
        job={job}
        noun="distillation"
        start={() => void start()}
        canStart={valid}
        startLabel="Start"
        startAriaLabel="Start distillation"
        startClassName="primary big"
        stateTestId="distill-state"
      />
      {job && (
        <TrainingPanel entry={job} what="Distillation" statsId="train-stats">
          {job.model && (
            <ProducedModel model={job.model} teacherId={job.request?.kind === 'distill' ? job.request.req.teacher : undefined} />
          )}
        </TrainingPanel>
      )}
    </section>
  );
}

function ProducedModel({ model, teacherId }: { model: ModelInfo; teacherId?: string }) {
  const client = useClient();
  const teacher = useModels((s) => s.models.find((m) => m.id === teacherId));
  const g = gflopsPerMp(model);
  const compare = async () => {
    const sourceId = useImages.getState().currentId;
    useUi
      .getState()
      .setCompare({ sourceId, scale: model.scale, a: teacher?.id, b: model.id, splitLeft: teacher ? 'a' : 'original', mode: 'split' });
    useUi.getState().setView('compare');
    if (!sourceId) return;
    // Start whichever of the two upscales this image does not have yet.
    const have = resultsFor(useJobs.getState(), sourceId);
    const missing = [teacher, model].filter((m) => m && !have[resultKey({ modelId: m.id, scale: model.scale })]).map((m) => m!.id);
    await runModels(client, sourceId, missing, model.scale);
  };
  return (
    <div className="result-card" data-testid="distill-result">
      <h3>{model.label}</h3>
      <dl className="numbers">
        <div>
          <dt>Parameters</dt>
          <dd>{formatInt(model.params)}</dd>
        </div>
        {g !== undefined && (
          <div>
            <dt>GFLOPs / MP</dt>
            <dd>{g.toFixed(1)}</dd>
          </div>
        )}
        {teacher && (
          <div>
            <dt>Of teacher</dt>
            <dd>{((100 * model.params) / teacher.params).toFixed(1)}%</dd>
          </div>
        )}
        {Object.entries(model.psnr ?? {}).map(([set, v]) => (
          <div key={set}>
            <dt>PSNR {set}</dt>
            <dd>{v.toFixed(2)} dB</dd>
          </div>
        ))}
      </dl>
      <button type="button" className="primary" onClick={() => void compare()} aria-label="Compare with teacher">
        Compare with teacher
      </button>
    </div>
  );
}
