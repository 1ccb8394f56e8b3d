import type { ModelInfo } from '../../api/client';
import { ModelSelect } from '../../components/ModelPicker';
import type { usePathPicker } from '../../components/PathBrowser';
import { IMPORT_TEACHER } from '../../state/ui';
import { FolderField } from './TrainingPanel';

/**
 * What the prune and distillation stages both ask for: the teacher (a listed model, or a file
 * with its architecture) and the training and validation folders. Each stage names its fields
 * for itself ("Teacher to prune", "Teacher model"), so the accessible names come in as labels.
 */

/** Architectures an imported teacher checkpoint may have. */
export const TEACHER_PRESETS = ['edsr-baseline', 'edsr-full', 'swinir-light', 'swinir-classical', 'edsr-mini', 'swinir-mini'] as const;

export interface TeacherLabels {
  /** The model select's accessible name. */
  readonly select: string;
  /** The select's last option, which switches to a file. */
  readonly importOption: string;
  readonly fileCaption: string;
  readonly file: string;
  /** The Choose… button's accessible name (shown when `onChooseFile` is given). */
  readonly chooseFile?: string;
  readonly preset: string;
}

export function TeacherFields({
  models,
  teacherId,
  onTeacher,
  path,
  onPath,
  onChooseFile,
  preset,
  onPreset,
  labels,
}: {
  models: readonly ModelInfo[];
  teacherId: string;
  onTeacher(id: string): void;
  path: string;
  onPath(p: string): void;
  /** A native file dialog (Electron); web mode types a path inside its --root folders. */
  onChooseFile?: () => void;
  preset: string;
  onPreset(p: string): void;
  labels: TeacherLabels;
}) {
  return (
    <>
      <label className="field">
        <span>Teacher</span>
        <ModelSelect models={models} value={teacherId} onChange={onTeacher} ariaLabel={labels.select}>
          <option value={IMPORT_TEACHER}>{labels.importOption}</option>
        </ModelSelect>
      </label>
      {teacherId === IMPORT_TEACHER && (
        <>
          <div className="field">
            <span>{labels.fileCaption}</span>
            <div className="row">
              <input
                type="text"
                aria-label={labels.file}
                value={path}
                placeholder="/path/to/model.pth"
                spellCheck={false}
                onChange={(e) => onPath(e.target.value)}
              />
              {onChooseFile && (
                <button type="button" onClick={onChooseFile} aria-label={labels.chooseFile}>
                  Choose…
                </button>
              )}
            </div>
          </div>
          <label className="field">
            <span>Teacher architecture</span>
            <select aria-label={labels.preset} value={preset} onChange={(e) => onPreset(e.target.value)}>
              {TEACHER_PRESETS.map((p) => (
                <option key={p} value={p}>
                  {p}
                </option>
              ))}
            </select>
          </label>
        </>
      )}
    </>
  );
}

export interface FolderLabels {
  readonly data: string;
  readonly chooseData: string;
  readonly val: string;
  readonly chooseVal: string;
}

export function DataFolders({
  dataDir,
  valDir,
  onDataDir,
  onValDir,
  pick,
  labels,
}: {
  dataDir: string;
  valDir: string;
  onDataDir(v: string): void;
  onValDir(v: string): void;
  pick: ReturnType<typeof usePathPicker>['pick'];
  labels: FolderLabels;
}) {
  return (
    <>
      <FolderField
        label="Training images (folder)"
        ariaLabel={labels.data}
        value={dataDir}
        onChange={onDataDir}
        pick={pick}
        chooseTitle="Choose the training images folder"
        chooseAriaLabel={labels.chooseData}
      />
      <FolderField
        label="Validation images (folder with *_HR/*_LR pairs, optional)"
        ariaLabel={labels.val}
        value={valDir}
        onChange={onValDir}
        pick={pick}
        chooseTitle="Choose the validation folder"
        chooseAriaLabel={labels.chooseVal}
      />
    </>
  );
}
